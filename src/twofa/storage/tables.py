"""The provider's tables (SQLAlchemy Core). Schema changes go through Alembic migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer, "sqlite")
When = DateTime(timezone=True)

apps = Table(
    "apps",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("public_id", String(24), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("api_key_hash", String(64), nullable=False, unique=True),
    Column("api_key_salt", String(64), nullable=False),
    Column("callback_url", String(2000)),
    Column("callback_method", String(4), nullable=False, default="POST"),
    Column("lenient_verify", Boolean, nullable=False, default=False),
    Column("sms_enabled", Boolean, nullable=False, default=True),
    Column("calls_enabled", Boolean, nullable=False, default=True),
    Column("onetouch_enabled", Boolean, nullable=False, default=True),
    Column("generic_tokens_enabled", Boolean, nullable=False, default=True),
    # A further device of a user's phone needs approval on an existing one (Authy multi-device).
    Column("multi_device", Boolean, nullable=False, default=True, server_default=sa_true()),
    # Number matching offers three numbers to tap instead of asking to type the one shown.
    Column("number_choices", Boolean, nullable=False, default=False, server_default=sa_false()),
    Column("created_at", When, nullable=False),
    # ISO country codes this application may send codes to, comma-separated; NULL: deployment's.
    Column("allowed_countries", String(1000)),
    # A sandbox application never reaches a real gateway and accepts Authy's fixed test codes.
    Column("sandbox", Boolean, nullable=False, default=False, server_default=sa_false()),
    # Defaults for OneTouch requests that do not say: number matching, and seconds to expire
    # (NULL: TWOFA_ONETOUCH_DEFAULT_TTL).
    Column("number_matching", Boolean, nullable=False, default=False, server_default=sa_false()),
    Column("onetouch_ttl", Integer),
    sqlite_autoincrement=True,
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("public_id", String(24), nullable=False, unique=True),
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("country_code", Integer, nullable=False),
    Column("phone_e164", String(20), nullable=False),
    Column("confirmed", Boolean, nullable=False, default=False),
    Column("created_at", When, nullable=False),
    # Set for users moved in from Authy with their Authy id kept (``twofa users import``).
    Column("imported_at", When),
    Column("name", String(100)),  # optional, from an import file; shown to operators only
    UniqueConstraint("app_id", "phone_e164", name="uq_users_app_phone"),
    sqlite_autoincrement=True,
)
Index("ix_users_phone", users.c.phone_e164)

totp_secrets = Table(
    "totp_secrets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # "app" (7 digits) or "generic" (6 digits)
    Column("secret_enc", Text, nullable=False),
    Column("digits", Integer, nullable=False),
    Column("step", Integer, nullable=False),
    Column("last_step", BigInteger, nullable=False, default=0),
    Column("created_at", When, nullable=False),
    UniqueConstraint("user_id", "kind", name="uq_totp_secrets_user_kind"),
)

sent_codes = Table(
    "sent_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("created_at", When, nullable=False),
    Column("expires_at", When, nullable=False),
    Column("used_at", When),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("app_id", ForeignKey("apps.id", ondelete="SET NULL")),
    Column("to", String(320), nullable=False, index=True),  # E.164, or an e-mail address
    Column("channel", String(10), nullable=False),  # "sms", "call" or "email"
    Column("body", Text, nullable=False),
    Column("gateway", String(20), nullable=False),
    Column("status", String(10), nullable=False),  # "sent" or "failed"
    Column("error", Text),
    Column("created_at", When, nullable=False, index=True),
)

phone_verifications = Table(
    "phone_verifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("phone_e164", String(20), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("via", String(10), nullable=False),
    Column("created_at", When, nullable=False),
    Column("expires_at", When, nullable=False),
    Column("verified_at", When),
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
)
Index(
    "ix_phone_verifications_lookup", phone_verifications.c.app_id, phone_verifications.c.phone_e164
)

approval_requests = Table(
    "approval_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("public_id", String(24), nullable=False),
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("message", Text, nullable=False),
    Column("details", JSON, nullable=False),
    Column("hidden_details", JSON, nullable=False),
    Column("logos", JSON),
    Column("seconds_to_expire", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("number", Integer),  # number matching: the number the login page shows
    Column("created_at", When, nullable=False),
    Column("expires_at", When),
    Column("updated_at", When, nullable=False),
    Column("processed_at", When),
    Column("device_id", ForeignKey("devices.id", ondelete="SET NULL")),
    Column("device_signature", Text),
    Column("device_signing_time", BigInteger),
)
Index("ix_approval_requests_pending", approval_requests.c.status, approval_requests.c.expires_at)

devices = Table(
    "devices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("phone_e164", String(20), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("os_type", String(20), nullable=False),
    Column("public_key", JSON, nullable=False),  # ECDSA P-256 public key as a JWK
    Column("created_at", When, nullable=False),
    Column("last_seen_at", When),
    Column("revoked_at", When, index=True),
    # RFC 7638 thumbprint of public_key: one key enrols one device, ever.
    Column("key_thumbprint", String(64), unique=True),
    # active; pending (a further device waiting for an existing one); denied
    Column("state", String(10), nullable=False, default="active", server_default="active"),
    Column("approval_number", Integer),  # the number the new device shows, typed on the old
    Column("registered_ip", String(64)),
    Column("decided_by", Id),  # the device that approved or denied this one
    Column("decided_at", When),
)

device_streams = Table(
    "device_streams",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("opened_at", When, nullable=False),
)

device_registrations = Table(
    "device_registrations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("phone_e164", String(20), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", When, nullable=False),
    Column("expires_at", When, nullable=False),
    Column("used_at", When),
)

device_nonces = Table(
    "device_nonces",
    metadata,
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", When, nullable=False, index=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(30), nullable=False),  # authy_callback (webpush, verify_webhook, ...)
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE")),
    Column("target", String(200), nullable=False),  # the circuit breaker's key, e.g. "app:12"
    Column("subject", String(200), nullable=False),  # e.g. the approval request's uuid
    Column("url", String(2000), nullable=False),
    Column("body", JSON, nullable=False),
    Column("status", String(10), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", When, nullable=False),
    Column("window_start", When, nullable=False),  # retries stop a retry window after this
    Column("lease_until", When),
    Column("leased_by", String(64)),
    Column("last_error", Text),
    Column("created_at", When, nullable=False, index=True),
    Column("finished_at", When),  # delivered or given up
    sqlite_autoincrement=True,
)
Index("ix_deliveries_due", deliveries.c.status, deliveries.c.next_attempt_at)
Index("ix_deliveries_target", deliveries.c.target, deliveries.c.status)
Index("ix_deliveries_subject", deliveries.c.subject)

delivery_circuits = Table(
    "delivery_circuits",
    metadata,
    Column("target", String(200), primary_key=True),
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE")),
    Column("state", String(10), nullable=False),  # closed or paused
    Column("failures", Integer, nullable=False, default=0),  # consecutive failed attempts
    Column("failing_since", When),
    Column("paused_at", When),
    Column("probe_at", When),
    Column("last_error", Text),
    Column("updated_at", When, nullable=False),
)

webpush_keys = Table(
    "webpush_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one per deployment
    Column("public_key", String(100), nullable=False),  # base64url uncompressed P-256 point
    Column("private_key_enc", Text, nullable=False),  # PKCS#8 PEM, encrypted with the keyring
    Column("created_at", When, nullable=False),
)

webpush_subscriptions = Table(
    "webpush_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "device_id",
        ForeignKey("devices.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,  # one browser, one subscription
    ),
    Column("endpoint", String(2000), nullable=False),
    Column("p256dh", String(100), nullable=False),
    Column("auth", String(50), nullable=False),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
)

usage = Table(
    "usage",
    metadata,
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
    Column("month", String(7), primary_key=True),  # "2026-11"
    Column("kind", String(20), primary_key=True),  # auths, sms, calls, api_calls
    Column("count", BigInteger, nullable=False, default=0),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, unique=True),  # set by the chainer, in chain order
    Column("created_at", When, nullable=False),
    Column("event", String(50), nullable=False, index=True),
    Column("app_id", Integer),
    Column("subject", String(200), nullable=False),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
    # Who made the change: "operator:<name>" for the console, "cli" for a command; NULL for
    # the API's own events. Part of the chained hash when set.
    Column("actor", String(100), index=True),
)

# Fraud guard: sends and conversions per (application, destination prefix) in time buckets, and
# the prefixes blocked for an application because their conversion fell too low (SMS pumping).
fraud_traffic = Table(
    "fraud_traffic",
    metadata,
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
    Column("prefix", String(20), primary_key=True),
    Column("bucket", BigInteger, primary_key=True),  # epoch seconds at the bucket's start
    Column("sends", Integer, nullable=False, default=0),
    Column("conversions", Integer, nullable=False, default=0),
)

fraud_blocks = Table(
    "fraud_blocks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("sends", Integer, nullable=False),
    Column("conversions", Integer, nullable=False),
    Column("created_at", When, nullable=False),
    Column("expires_at", When, nullable=False),
    Column("lifted_at", When),
)
Index("ix_fraud_blocks_lookup", fraud_blocks.c.app_id, fraud_blocks.c.prefix)

# Twilio Verify v2 ------------------------------------------------------------------------------

verify_credentials = Table(
    "verify_credentials",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sid", String(34), nullable=False, unique=True),  # AC… (account) or SK… (API key)
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # "account" or "api_key"
    Column("friendly_name", String(64)),
    Column("secret_salt", String(64), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", When, nullable=False),
    Column("revoked_at", When),
    sqlite_autoincrement=True,
)

verify_services = Table(
    "verify_services",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sid", String(34), nullable=False, unique=True),
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("friendly_name", String(64), nullable=False),
    Column("code_length", Integer, nullable=False),
    Column("config", JSON, nullable=False),  # every other setting, snake_case as on the wire
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    Column("deleted_at", When),  # kept for the audit trail; answers 404 from then on
    sqlite_autoincrement=True,
)

verify_verifications = Table(
    "verify_verifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sid", String(34), nullable=False, unique=True),
    Column("service_id", ForeignKey("verify_services.id", ondelete="CASCADE"), nullable=False),
    Column("to", String(320), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("status", String(24), nullable=False),
    Column("code_enc", Text, nullable=False),  # re-sent unchanged within its lifetime
    Column("amount", String(64)),
    Column("payee", String(128)),
    Column("locale", String(10)),
    Column("lookup", JSON, nullable=False),
    Column("send_attempts", JSON, nullable=False),
    Column("checks", Integer, nullable=False, default=0),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    Column("expires_at", When, nullable=False),
    sqlite_autoincrement=True,
)
# One pending verification per (service, To): a second concurrent start fails on this index.
Index(
    "uq_verify_verifications_pending",
    verify_verifications.c.service_id,
    verify_verifications.c.to,
    unique=True,
    sqlite_where=verify_verifications.c.status == "pending",
    postgresql_where=verify_verifications.c.status == "pending",
)

verify_rate_limits = Table(
    "verify_rate_limits",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sid", String(34), nullable=False, unique=True),
    Column("service_id", ForeignKey("verify_services.id", ondelete="CASCADE"), nullable=False),
    Column("unique_name", String(64), nullable=False),
    Column("description", String(1000)),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    UniqueConstraint("service_id", "unique_name", name="uq_verify_rate_limits_name"),
    sqlite_autoincrement=True,
)

verify_buckets = Table(
    "verify_buckets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sid", String(34), nullable=False, unique=True),
    Column(
        "rate_limit_id",
        ForeignKey("verify_rate_limits.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("max", Integer, nullable=False),
    Column("interval", Integer, nullable=False),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    UniqueConstraint("rate_limit_id", "interval", name="uq_verify_buckets_interval"),
    sqlite_autoincrement=True,
)

verify_entities = Table(
    "verify_entities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sid", String(34), nullable=False, unique=True),
    Column("service_id", ForeignKey("verify_services.id", ondelete="CASCADE"), nullable=False),
    Column("identity", String(64), nullable=False),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    UniqueConstraint("service_id", "identity", name="uq_verify_entities_identity"),
    sqlite_autoincrement=True,
)

verify_factors = Table(
    "verify_factors",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sid", String(34), nullable=False, unique=True),
    Column("entity_id", ForeignKey("verify_entities.id", ondelete="CASCADE"), nullable=False),
    Column("factor_type", String(10), nullable=False),
    Column("friendly_name", String(64), nullable=False),
    Column("status", String(12), nullable=False),
    Column("secret_enc", Text, nullable=False),
    Column("config", JSON, nullable=False),
    Column("metadata", JSON),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_step", BigInteger, nullable=False, default=0),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    sqlite_autoincrement=True,
)

verify_challenges = Table(
    "verify_challenges",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sid", String(34), nullable=False, unique=True),
    Column("entity_id", ForeignKey("verify_entities.id", ondelete="CASCADE"), nullable=False),
    Column("factor_id", ForeignKey("verify_factors.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("responded_reason", String(16), nullable=False),
    Column("details", JSON, nullable=False),
    Column("hidden_details", JSON),
    Column("failures", Integer, nullable=False, default=0),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    Column("responded_at", When),
    Column("expires_at", When, nullable=False),
    sqlite_autoincrement=True,
)
Index("ix_verify_challenges_entity", verify_challenges.c.entity_id, verify_challenges.c.id)

verify_webhooks = Table(
    "verify_webhooks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sid", String(34), nullable=False, unique=True),
    Column("service_id", ForeignKey("verify_services.id", ondelete="CASCADE"), nullable=False),
    Column("friendly_name", String(64), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("url", String(2000), nullable=False),
    Column("status", String(10), nullable=False),
    Column("version", String(4), nullable=False),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    sqlite_autoincrement=True,
)

verify_messaging_configurations = Table(
    "verify_messaging_configurations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("service_id", ForeignKey("verify_services.id", ondelete="CASCADE"), nullable=False),
    Column("country", String(3), nullable=False),  # ISO 3166-1 alpha-2, or "all"
    Column("messaging_service_sid", String(34), nullable=False),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    UniqueConstraint("service_id", "country", name="uq_verify_messaging_configurations_country"),
    sqlite_autoincrement=True,
)


# Operator console ------------------------------------------------------------------------------

operators = Table(
    "operators",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),  # lower case
    Column("role", String(20), nullable=False),  # admin, helpdesk, read-only
    Column("password_hash", String(200), nullable=False),  # Argon2id
    Column("totp_secret_enc", Text),  # encrypted with the keyring; NULL: no TOTP enrolled
    Column("totp_last_step", BigInteger, nullable=False, default=0, server_default="0"),
    Column("created_at", When, nullable=False),
    Column("disabled_at", When),
    sqlite_autoincrement=True,
)

# WebAuthn credentials (security keys, passkeys) of an operator.
operator_credentials = Table(
    "operator_credentials",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), nullable=False),
    Column("credential_id", String(1400), nullable=False, unique=True),  # base64url
    Column("public_key", Text, nullable=False),  # COSE key, base64url
    Column("sign_count", BigInteger, nullable=False, default=0),
    Column("name", String(100), nullable=False),
    Column("created_at", When, nullable=False),
    Column("last_used_at", When),
)
Index("ix_operator_credentials_operator", operator_credentials.c.operator_id)

# Signed-in console sessions; the cookie holds a random token, the row its SHA-256.
operator_sessions = Table(
    "operator_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", When, nullable=False),
    Column("seen_at", When, nullable=False),
    Column("verified_at", When, nullable=False),  # the last second factor (re-authentication)
    Column("address", String(64)),
    Column("ended_at", When),
)
Index("ix_operator_sessions_operator", operator_sessions.c.operator_id)

# WebAuthn challenges, single use: taken by a DELETE so one assertion cannot be replayed.
operator_challenges = Table(
    "operator_challenges",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("challenge", String(100), nullable=False, unique=True),  # base64url
    Column("operator_id", ForeignKey("operators.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(20), nullable=False),  # register, sign_in, reauth
    Column("expires_at", When, nullable=False, index=True),
)
