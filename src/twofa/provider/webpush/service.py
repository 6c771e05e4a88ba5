"""Web Push: the deployment's VAPID key and the devices' subscriptions.

The VAPID key pair is made once per deployment, on first start, and kept in the database (its
private half encrypted with the keyring). It is deliberately not derived from
``TWOFA_SECRET_KEY``: every browser subscription is bound to the public key it was made with,
so a derived key would silently break every subscription when the secret is rotated.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import certifi
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from twofa.crypto import Keyring
from twofa.errors import MissingParameter, ServiceUnavailable
from twofa.provider.webpush.crypto import (
    InvalidSubscriptionKey,
    SubscriptionKeys,
    audience,
    b64url_encode,
    raw_public_key,
    vapid_authorization,
    vapid_jwt,
)
from twofa.provider.webpush.endpoints import EndpointPolicy, EndpointRefused
from twofa.provider.webpush.store import StoredKey, WebPushStore
from twofa.settings import Settings

log = logging.getLogger(__name__)
JWT_REUSE = 3600.0  # a token lives 12 h; sign a new one every hour per push service


@dataclass(frozen=True, slots=True)
class VapidKey:
    private: ec.EllipticCurvePrivateKey
    public: bytes  # the uncompressed point, as browsers take it

    @property
    def public_b64(self) -> str:
        return b64url_encode(self.public)


@dataclass(frozen=True, slots=True)
class NewSubscription:
    """A browser's push subscription, checked: allowed endpoint, valid keys."""

    endpoint: str
    p256dh: str
    auth: str


def parse_subscription(body: dict[str, Any], policy: EndpointPolicy) -> NewSubscription:
    """``PushSubscription.toJSON()`` (``endpoint``, ``keys.p256dh``, ``keys.auth``); 400/60004."""
    try:
        endpoint = policy.check(body.get("endpoint"))
    except EndpointRefused as exc:
        raise MissingParameter("endpoint", str(exc)) from exc
    keys = body.get("keys")
    if not isinstance(keys, dict):
        raise MissingParameter("keys", "must hold p256dh and auth")
    try:
        parsed = SubscriptionKeys.parse(keys.get("p256dh"), keys.get("auth"))
    except InvalidSubscriptionKey as exc:
        raise MissingParameter("keys", str(exc)) from exc
    return NewSubscription(endpoint, b64url_encode(parsed.p256dh), b64url_encode(parsed.auth))


class WebPushService:
    """The VAPID key, subscriptions, and the ``Authorization`` header for a push service."""

    def __init__(self, store: WebPushStore, keyring: Keyring, settings: Settings) -> None:
        self._store = store
        self._keyring = keyring
        self._subject = settings.vapid_subject
        self.policy = EndpointPolicy.from_settings(settings)
        self._key: VapidKey | None = None
        self._key_lock = threading.Lock()
        self._tokens: dict[str, tuple[float, str]] = {}

    def vapid_key(self) -> VapidKey:
        """The deployment's key pair, made and stored on first use (the provider's start)."""
        if self._key is not None:
            return self._key
        with self._key_lock:
            if self._key is None:
                stored = self._store.key() or self._store.insert_key(self._new_key())
                self._key = self._load(stored)
        return self._key

    def _new_key(self) -> StoredKey:
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        log.info("web push: made this deployment's VAPID key")
        return StoredKey(b64url_encode(raw_public_key(private)), self._keyring.encrypt(pem))

    def _load(self, stored: StoredKey) -> VapidKey:
        try:
            pem = self._keyring.decrypt(stored.private_key_enc)
        except ValueError as exc:
            log.error(
                "web push: the stored VAPID key was encrypted with another TWOFA_SECRET_KEY "
                "(docs/operations.md, The Web Push key)"
            )
            raise ServiceUnavailable("Web Push is not available on this provider") from exc
        private = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        return VapidKey(private, raw_public_key(private))

    def public_key(self) -> str:
        """The ``applicationServerKey`` browsers subscribe with (base64url)."""
        return self.vapid_key().public_b64

    def subscribe(self, device_id: int, new: NewSubscription) -> None:
        """Store or refresh the device's subscription."""
        self._store.save_subscription(device_id, new.endpoint, new.p256dh, new.auth)

    def unsubscribe(self, device_id: int) -> bool:
        """Forget the device's subscription; False when it had none."""
        return self._store.delete_for_device(device_id)

    def authorization(self, endpoint: str, now: float | None = None) -> str:
        """``vapid t=…, k=…`` for the push service of ``endpoint``, reused for an hour."""
        now = time.time() if now is None else now
        aud = audience(endpoint)
        cached = self._tokens.get(aud)
        if cached is None or now - cached[0] > JWT_REUSE:
            key = self.vapid_key()
            cached = (now, vapid_jwt(key.private, aud=aud, subject=self._subject, now=now))
            self._tokens[aud] = cached
        return vapid_authorization(cached[1], self.vapid_key().public)


def tls_context(settings: Settings) -> ssl.SSLContext | bool:
    """What outgoing deliveries trust: the usual CAs, plus ``webpush_ca_file`` if set (a
    self-hosted push service under a private CA; the test suite's fake push service)."""
    if not settings.webpush_ca_file:
        return True
    context = ssl.create_default_context(cafile=certifi.where())
    context.load_verify_locations(cafile=settings.webpush_ca_file)
    return context
