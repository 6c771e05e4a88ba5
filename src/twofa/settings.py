"""One typed, frozen settings object read from ``TWOFA_*`` environment variables and ``.env``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from twofa.errors import SettingsError as SettingsError  # raised here; defined with the others

MIN_SECRET_KEY_LENGTH = 32
# Where codes may go unless TWOFA_FRAUD_ALLOWED_COUNTRIES says otherwise: North America, the
# EEA, the UK, Switzerland, Australia, New Zealand and Japan (low fraud, low cost). Twilio enables
# only the account's home country; an operator widens this list for the users they have.
DEFAULT_ALLOWED_COUNTRIES = (
    "US,CA,PR,GB,IE,FR,DE,AT,CH,BE,NL,LU,DK,SE,NO,FI,IS,ES,PT,IT,PL,CZ,AU,NZ,JP"
)
WEAK_SECRET_KEYS = {"not-so-secret", "secret", "changeme", "dev", "development"}


@dataclass(frozen=True, slots=True)
class Limit:
    """A rate limit: at most ``count`` events per ``seconds``."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        """Parse ``"10/600"`` (ten per 600 seconds)."""
        try:
            count, seconds = (int(part) for part in text.split("/", 1))
        except ValueError as exc:
            raise SettingsError(f"rate limit {text!r} is not of the form COUNT/SECONDS") from exc
        if count < 0 or seconds <= 0:
            raise SettingsError(f"rate limit {text!r} must have COUNT >= 0 and SECONDS > 0")
        return cls(count, seconds)


def _names(name: str, old: str) -> AliasChoices:
    """A setting read from ``TWOFA_<NAME>``, or from its older name ``TWOFA_<OLD>``."""
    return AliasChoices(name, f"TWOFA_{name.upper()}", old, f"TWOFA_{old.upper()}")


class Settings(BaseSettings):
    """Everything configurable about twofa. Code reads attributes, never raw environment keys."""

    model_config = SettingsConfigDict(
        env_prefix="TWOFA_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    env: Literal["dev", "test", "prod"] = "dev"
    secret_key: SecretStr | None = None
    data_dir: Path = Path("var")
    database_url: str = ""
    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)
    db_lock_timeout: float = Field(2.0, gt=0)  # SQLite: wait this long for a write lock, then 503
    redis_url: str | None = None
    public_url: str = ""
    # Sandbox applications (Authy's fixed test codes, messages kept in the outbox); default:
    # allowed except when TWOFA_ENV=prod, where creating or using one is refused.
    allow_sandbox: bool | None = None

    # Messaging
    sms_gateway: Literal["outbox", "console", "http", "twilio"] = "outbox"
    sms_http_url: str = ""
    sms_timeout: float = 10.0
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_from: str = ""
    twilio_api_base: str = "https://api.twilio.com"
    email_gateway: Literal["outbox", "console", "smtp"] = "outbox"
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    email_from: str = ""

    # Codes
    sms_code_length: int = Field(7, ge=6, le=10)
    sms_code_ttl: int = Field(600, gt=0)
    totp_digits: int = Field(7, ge=6, le=8)
    totp_step: int = Field(30, gt=0)
    totp_window: int = Field(1, ge=0, le=3)
    phone_verification_ttl: int = Field(600, gt=0)
    onetouch_default_ttl: int = Field(86400, ge=0)
    # Device event streams: a keep-alive, and a check that the device may still listen, this often
    stream_heartbeat: float = Field(15.0, gt=0, le=60)
    verify_code_ttl: int = Field(600, ge=1, le=86400)  # Twilio Verify: 10 minutes by default

    # Rate limits, "COUNT/SECONDS": moving windows (at most COUNT per SECONDS)...
    limit_sms_per_phone: str = "5/600"  # per (application, phone)
    limit_sms_per_phone_total: str = "20/600"  # per phone across applications (backstop)
    limit_sms_per_app: str = "1000/3600"
    limit_push_per_user: str = "10/600"
    limit_phone_verifications_per_number: str = "5/600"  # per (application, phone)
    limit_device_registrations_total: str = "200/3600"  # every registration, deployment-wide
    # ...and back-offs: COUNT attempts free, then a wait of SECONDS doubling per attempt.
    limit_verify_failures_per_user: str = "10/600"  # wrong codes per (application, user)
    limit_device_registrations_per_number: str = "3/600"
    limit_device_registrations_per_ip: str = "10/600"
    lockout_max_delay: int = Field(3600, gt=0)  # the back-off's ceiling, seconds
    lockout_forget: int = Field(86400, gt=0)  # a count is forgotten this long after its last use
    # Addresses of reverse proxies whose X-Forwarded-For the provider believes (comma-separated;
    # empty: none). The default suits a proxy on the same host, as in deploy/.
    trusted_proxy: str = "127.0.0.1"

    # Fraud guard (docs/operations.md): destinations, line types and SMS-pumping detection
    fraud_allowed_countries: str = DEFAULT_ALLOWED_COUNTRIES  # ISO codes, comma-separated; "*": all
    fraud_pumping_detection: bool = True
    fraud_prefix_digits: int = Field(3, ge=0, le=8)  # national digits after the country code
    fraud_window: int = Field(3600, gt=0)  # seconds of traffic a prefix is judged on
    fraud_min_sends: int = Field(30, ge=1)  # sends to a prefix before it can be judged
    fraud_min_conversion: float = Field(0.2, ge=0, le=1)  # verified / sent, below it: block
    fraud_block_seconds: int = Field(3600, gt=0)

    # Deliveries: every outgoing signed HTTP call (Authy callbacks). The old TWOFA_CALLBACK_*
    # names of the timeout and the lease are still read.
    delivery_timeout: float = Field(
        5.0, gt=0, validation_alias=_names("delivery_timeout", "callback_timeout")
    )
    delivery_lease_seconds: float = Field(  # a dead worker's claim lapses after this
        30.0, gt=0, validation_alias=_names("delivery_lease_seconds", "callback_lease_seconds")
    )
    delivery_retry_base: float = Field(5.0, gt=0)  # first retry after about this; then doubles
    delivery_retry_max_delay: float = Field(3600.0, gt=0)  # the back-off grows no further
    delivery_retry_window: float = Field(3 * 86400.0, gt=0)  # a delivery is tried this long
    delivery_pause_after_seconds: float = Field(600.0, ge=0)  # the breaker pauses a receiver
    delivery_pause_after_attempts: int = Field(10, ge=1)  # failing this long AND this often
    delivery_probe_interval: float = Field(60.0, gt=0)  # a paused receiver is tried this often
    callback_allow_private: bool | None = None  # loopback/private receivers; default: dev only
    worker_poll_interval: float = Field(0.5, gt=0)

    # Web Push (wake-ups for the authenticator web app)
    webpush_subject: str = ""  # VAPID "sub": mailto: or https: contact; default from public_url
    webpush_hosts: str = ""  # extra push service hosts, comma-separated ("*.example.org" allowed)
    webpush_allow_private: bool = False  # let configured hosts resolve to private addresses
    webpush_allow_loopback: bool = False  # dev and test only: push services on 127.0.0.1
    webpush_ca_file: str = ""  # extra CA certificates for a self-hosted push service

    # Retention: expired secrets go a day after expiry; records of what happened after 30 days
    retention_expired_after: int = Field(86400, ge=0)
    retention_history_after: int = Field(30 * 86400, ge=3600)
    retention_interval: float = Field(3600.0, gt=0)  # how often the purge runs

    # HTTP and logs
    max_body_bytes: int = 64 * 1024
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "debug", "info", "warning", "error"] = (
        "INFO"
    )
    log_json: bool | None = None  # default: JSON outside dev, plain text in dev
    access_log: bool = True  # one line per request; off where a proxy in front writes one

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.env != "dev"

    # Operator console (/console; docs/operations.md)
    console_enabled: bool = True
    # The console's origin as browsers see it (https://twofa.example.org). Every change must
    # come with this Origin, and WebAuthn signatures must name it. Default: TWOFA_PUBLIC_URL's
    # origin, else the origin the request was addressed to.
    console_origin: str = ""
    console_rp_id: str = ""  # WebAuthn relying party id; default: the console origin's host
    console_session_idle: int = Field(1800, ge=60)  # a session ends after this long unused
    console_session_max: int = Field(12 * 3600, ge=300)  # and this long after sign-in, always
    # Key rotation, deletes and operator changes need a second factor this recent (seconds).
    console_reauth_seconds: int = Field(300, ge=30)
    console_password_min_length: int = Field(12, ge=8, le=64)
    # Sign-in attempts "COUNT/SECONDS" (moving windows) per operator name and per address.
    console_login_limit_operator: str = "10/900"
    console_login_limit_ip: str = "50/900"
    # The largest Authy export the console's import page accepts (split larger ones).
    console_import_max_bytes: int = Field(20 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)

    # Site
    site_database_url: str = ""
    site_provider_url: str = "http://127.0.0.1:5001"
    site_api_key: SecretStr | None = None
    site_callback_max_age: int = 300
    site_public_url: str = ""  # the site's external root; the callback URL is built from it
    site_provider_timeout: float = Field(10.0, gt=0)
    site_app_name: str = "twofa demo"
    site_session_ttl: int = Field(12 * 3600, gt=0)
    site_login_ttl: int = Field(600, gt=0)  # how long a password-checked login may stay pending
    site_approval_ttl: int = Field(120, gt=0)  # seconds a push request waits for the phone
    site_number_matching: bool = True
    site_resend_cooldown: int = Field(30, ge=0)
    site_max_code_failures: int = Field(5, ge=1)
    site_stream_max_seconds: int = Field(60, gt=0)  # an SSE stream closes after this; it reconnects
    # A keep-alive comment this often: also how soon the server learns that a browser has left
    # and frees the stream's thread and budget slot.
    site_stream_keepalive_seconds: float = Field(15.0, ge=0.5)
    # A waiting login asks the provider this often too, so a lost callback costs only this long.
    site_decision_poll_interval: float = Field(3.0, ge=1)
    site_threads: int = Field(32, ge=4)
    # The address of a reverse proxy whose X-Forwarded-* headers the site may trust (nginx).
    site_trusted_proxy: str = ""
    site_password_memory_kib: int = Field(65536, ge=8)  # Argon2id memory cost
    # The site's own secret (session cookie, sign-up challenges); never the provider's key.
    site_secret_key: SecretStr | None = None
    # Open /login/events streams per site process; past it browsers poll /login/status.
    site_max_streams: int = Field(16, ge=0)
    site_password_min_length: int = Field(8, ge=8, le=64)
    # Failed passwords "COUNT/SECONDS": per account and address (hard back-off), per address
    # (hard back-off), per account from anywhere (soft: a proof of work, never a lockout).
    site_login_limit_pair: str = "5/900"
    site_login_limit_ip: str = "50/900"
    site_login_limit_account: str = "10/3600"
    site_login_backoff_max: int = Field(900, gt=0)
    # Sign-ups per address "COUNT/SECONDS" before the browser must solve a proof of work.
    site_signup_limit_ip: str = "3/3600"
    site_challenge_bits: int = Field(18, ge=1, le=28)

    @field_validator(
        "limit_verify_failures_per_user",
        "limit_sms_per_phone",
        "limit_sms_per_phone_total",
        "limit_sms_per_app",
        "limit_push_per_user",
        "limit_phone_verifications_per_number",
        "limit_device_registrations_per_number",
        "limit_device_registrations_per_ip",
        "limit_device_registrations_total",
        "site_login_limit_pair",
        "site_login_limit_ip",
        "site_login_limit_account",
        "site_signup_limit_ip",
        "console_login_limit_operator",
        "console_login_limit_ip",
    )
    @classmethod
    def _limit_format(cls, value: str) -> str:
        Limit.parse(value)
        return value

    @model_validator(mode="after")
    def _lease_outlives_a_delivery(self) -> Settings:
        # A claim that lapses while its delivery is still in flight would be delivered twice.
        if self.delivery_lease_seconds <= self.delivery_timeout:
            raise SettingsError(
                "TWOFA_DELIVERY_LEASE_SECONDS must be longer than TWOFA_DELIVERY_TIMEOUT"
            )
        return self

    @model_validator(mode="after")
    def _loopback_push_only_in_dev(self) -> Settings:
        if self.webpush_allow_loopback and self.env == "prod":
            raise SettingsError("TWOFA_WEBPUSH_ALLOW_LOOPBACK is for dev and test only")
        return self

    @property
    def vapid_subject(self) -> str:
        """The VAPID ``sub`` claim: the operator's contact for push services."""
        if self.webpush_subject:
            return self.webpush_subject
        if self.public_url.startswith("https://"):
            return self.public_url.rstrip("/")
        return "mailto:postmaster@localhost"

    @model_validator(mode="after")
    def _stream_budget_leaves_threads(self) -> Settings:
        # Streams may never take every thread: pages and callbacks need some.
        if self.site_max_streams > self.site_threads - 4:
            raise SettingsError("TWOFA_SITE_MAX_STREAMS must leave at least 4 TWOFA_SITE_THREADS")
        return self

    @model_validator(mode="after")
    def _secret_keys_outside_dev(self) -> Settings:
        """Outside dev each secret that is set must be strong, and one of them must be set.

        The provider needs ``TWOFA_SECRET_KEY`` and the site ``TWOFA_SITE_SECRET_KEY``; each
        process is given only its own (``key`` and ``site_key`` refuse a missing one).
        """
        if self.env == "dev":
            return self
        given = {
            name: value.get_secret_value()
            for name, value in (
                ("TWOFA_SECRET_KEY", self.secret_key),
                ("TWOFA_SITE_SECRET_KEY", self.site_secret_key),
            )
            if value is not None and value.get_secret_value()
        }
        weak = [name for name, key in given.items() if _weak(key)]
        if weak or not given:
            raise SettingsError(
                f"{(weak or ['TWOFA_SECRET_KEY'])[0]} must be set to a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters when TWOFA_ENV={self.env}"
            )
        return self

    @property
    def allow_private_callbacks(self) -> bool:
        """Whether receivers on loopback or private networks may be called (dev: yes)."""
        if self.callback_allow_private is not None:
            return self.callback_allow_private
        return self.env == "dev"

    @property
    def sandbox_allowed(self) -> bool:
        """Whether sandbox applications may be created and used (default: outside prod)."""
        if self.allow_sandbox is not None:
            return self.allow_sandbox
        return self.env != "prod"

    @cached_property
    def key(self) -> bytes:
        """The provider's master secret (in dev, one kept under ``data_dir`` if none is set)."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        if self.env != "dev":
            raise SettingsError(f"TWOFA_SECRET_KEY is required when TWOFA_ENV={self.env}")
        return _dev_secret_key(self.data_dir)

    @cached_property
    def site_key(self) -> bytes:
        """The site's own secret.

        In production it must be ``TWOFA_SITE_SECRET_KEY``: the site never holds the provider's
        key. In dev and test, without one, a key derived from the master secret will do.
        """
        if self.site_secret_key is not None and self.site_secret_key.get_secret_value():
            return self.site_secret_key.get_secret_value().encode()
        if self.env == "prod":
            raise SettingsError("TWOFA_SITE_SECRET_KEY is required when TWOFA_ENV=prod")
        return hmac.new(self.key, b"twofa-site-secret", hashlib.sha256).hexdigest().encode()

    @property
    def provider_database_url(self) -> str:
        """The provider's SQLAlchemy URL; SQLite under ``data_dir`` by default."""
        return self.database_url or f"sqlite:///{self.data_dir / 'provider.db'}"

    @property
    def site_db_url(self) -> str:
        """The site's SQLAlchemy URL; a separate SQLite file by default (no shared tables)."""
        return self.site_database_url or f"sqlite:///{self.data_dir / 'site.db'}"

    def limit(self, name: str) -> Limit:
        """The parsed rate limit ``limit_<name>``."""
        return Limit.parse(getattr(self, f"limit_{name}"))


def _weak(key: str) -> bool:
    return len(key) < MIN_SECRET_KEY_LENGTH or key.lower() in WEAK_SECRET_KEYS


def _dev_secret_key(data_dir: Path) -> bytes:
    """Create or read a random development key, so restarts keep API keys and secrets valid."""
    path = data_dir / "dev-secret-key"
    if path.exists():
        return path.read_text().strip().encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value)
    return value.encode()


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and ``.env``), with keyword overrides for tests."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from exc
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc


def _one_line(error: ValidationError) -> str:
    """Pydantic's multi-line report as one line: ``TWOFA_NAME: reason; ...``."""
    parts = []
    for item in error.errors():
        reason = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        names = [str(part) for part in item.get("loc", ()) if part != "__root__"]
        parts.append(f"TWOFA_{names[0].upper()}: {reason}" if names else reason)
    return "; ".join(parts).replace("\n", " ")
