"""A push service on loopback, written from the RFCs, that the provider's wake-ups go to.

It stands where FCM, Mozilla autopush or Apple's service stand in production: it takes
``POST <endpoint>`` (RFC 8030 section 5), checks the VAPID ``Authorization`` header (RFC 8292:
an ES256 JWT with ``aud``, ``exp`` and ``sub``, and the ``k`` key that signed it) and decrypts
the body (RFC 8291 ``aes128gcm``) with the key pair and auth secret of a subscription the test
made, exactly as a browser would. It speaks https with a self-signed certificate made here,
which the provider is told to trust (``TWOFA_WEBPUSH_CA_FILE``): the provider's https-only
rule then holds in tests too, and only the loopback address needs a test setting.

This is deliberately independent of ``twofa.provider.webpush.crypto``: a shared mistake would
otherwise pass unnoticed.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import hmac
import http.server
import ipaddress
import json
import secrets
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 with SHA-256, for one block (every length here is at most 32)."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:length]


def decrypt(body: bytes, ua_private: ec.EllipticCurvePrivateKey, auth: bytes) -> bytes:
    """Decrypt an ``aes128gcm`` push message as the user agent does (RFC 8291 section 3.4)."""
    salt, (rs, idlen) = body[:16], struct.unpack("!IB", body[16:21])
    as_public = body[21 : 21 + idlen]
    records = body[21 + idlen :]
    assert idlen == 65 and as_public[0] == 4, "keyid must be the sender's uncompressed point"
    ua_public = ua_private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    shared = ua_private.exchange(ec.ECDH(), sender)
    ikm = _hkdf(auth, shared, b"WebPush: info\x00" + ua_public + as_public, 32)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    out = b""
    for index, start in enumerate(range(0, len(records), rs)):
        iv = (int.from_bytes(nonce, "big") ^ index).to_bytes(12, "big")
        plain = AESGCM(cek).decrypt(iv, records[start : start + rs], None)
        last = start + rs >= len(records)
        stripped = plain.rstrip(b"\x00")
        assert stripped[-1:] == (b"\x02" if last else b"\x01"), "bad padding delimiter"
        out += stripped[:-1]
    return out


def check_vapid(header: str, *, aud: str, now: float) -> tuple[dict[str, Any], bytes]:
    """Verify ``vapid t=<jwt>, k=<key>``; the claims and the key, or AssertionError."""
    assert header.startswith("vapid "), f"not a vapid scheme: {header[:20]}"
    params = dict(part.strip().split("=", 1) for part in header[6:].split(","))
    token, key = params["t"], b64d(params["k"])
    head_b64, claims_b64, sig_b64 = token.split(".")
    head = json.loads(b64d(head_b64))
    assert head.get("alg") == "ES256", head
    claims = json.loads(b64d(claims_b64))
    sig = b64d(sig_b64)
    assert len(sig) == 64, "ES256 signatures are r||s, 64 bytes"
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AssertionError("JWT signature does not verify under k") from exc
    assert claims.get("aud") == aud, f"aud {claims.get('aud')!r} != {aud!r}"
    exp = claims.get("exp")
    assert isinstance(exp, int) and now < exp <= now + 24 * 3600, f"exp {exp} out of range"
    sub = claims.get("sub", "")
    assert sub.startswith(("mailto:", "https:")), f"sub {sub!r}"
    return claims, key


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake push service")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "fakepush-cert.pem", directory / "fakepush-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Subscription:
    """What a browser holds after ``pushManager.subscribe``: endpoint, ECDH key, auth secret."""

    token: str
    endpoint: str
    private: ec.EllipticCurvePrivateKey
    auth: bytes

    def json(self) -> dict[str, Any]:
        """``PushSubscription.toJSON()``."""
        public = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64e(public), "auth": b64e(self.auth)},
        }


@dataclass
class Push:
    """One message the service accepted, decrypted."""

    token: str
    payload: dict[str, Any]
    body: bytes
    headers: dict[str, str]
    received_at: float
    arrived: float  # time.perf_counter() when the request reached the service

    @property
    def ttl(self) -> int:
        return int(self.headers["ttl"])


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class FakePushService:
    """The push service: subscriptions, checked deliveries, and scripted failures."""

    def __init__(self, directory: Path) -> None:
        self.cert, self._key = self_signed(directory)
        self.pushes: list[Push] = []
        self.errors: list[str] = []  # protocol violations seen; a test expects none
        self.attempts: dict[str, list[float]] = {}  # token -> time.time() of every POST
        self.vapid_key: bytes | None = None  # the key every JWT must be signed with, once known
        self.on_push: Callable[[Push], None] | None = None  # called (in a server thread) per push
        self._subs: dict[str, Subscription] = {}
        self._scripted: dict[str, list[Answer]] = {}
        self._gone: set[str] = set()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._httpd: http.server.ThreadingHTTPServer | None = None
        self._open: set[socket.socket] = set()  # kept-alive connections, closed by ``stop``
        self.port = 0
        self.start()

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Listen (again, on the same port after ``stop``)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self._key)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        httpd.daemon_threads = True
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening and drop open connections: the provider's are refused (an outage)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    # subscriptions and scripts --------------------------------------------------------------

    def subscribe(self) -> Subscription:
        token = secrets.token_urlsafe(16)
        sub = Subscription(
            token,
            f"{self.origin}/wpush/v2/{token}",
            ec.generate_private_key(ec.SECP256R1()),
            secrets.token_bytes(16),
        )
        with self._lock:
            self._subs[token] = sub
        return sub

    def expire(self, sub: Subscription) -> None:
        """The browser unsubscribed: from now on the endpoint answers 410 Gone."""
        with self._lock:
            self._gone.add(sub.token)

    def script(self, sub: Subscription, *answers: Answer) -> None:
        """Answer the next deliveries to ``sub`` with these statuses, in order."""
        with self._lock:
            self._scripted.setdefault(sub.token, []).extend(answers)

    def received(self, sub: Subscription | None = None) -> list[Push]:
        with self._lock:
            return [p for p in self.pushes if sub is None or p.token == sub.token]

    def wait_for(self, sub: Subscription, count: int = 1, timeout: float = 15.0) -> list[Push]:
        """Wait (polling with a deadline) until ``sub`` has ``count`` pushes; return them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [p for p in self.pushes if p.token == sub.token]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} pushes to {sub.token}, got {len(found)}; "
                        f"errors: {self.errors}"
                    )
                self._arrived.wait(min(left, 0.2))

    # the HTTP side ---------------------------------------------------------------------------

    def _accept(self, token: str, headers: dict[str, str], body: bytes) -> Answer:
        arrived = time.perf_counter()
        with self._lock:
            self.attempts.setdefault(token, []).append(time.time())
            sub = self._subs.get(token)
            if sub is None or token in self._gone:
                return Answer(404 if sub is None else 410)
            scripted = self._scripted.get(token)
            if scripted:
                return scripted.pop(0)
        now = time.time()
        try:
            _, key = check_vapid(headers.get("authorization", ""), aud=self.origin, now=now)
            if self.vapid_key is not None:
                assert key == self.vapid_key, "JWT signed with another key than the app's"
            assert headers.get("content-encoding") == "aes128gcm", "Content-Encoding"
            assert headers.get("ttl", "").isdigit(), "TTL header is required (RFC 8030 5.2)"
            assert len(body) <= 4096, f"body of {len(body)} bytes"
            payload = json.loads(decrypt(body, sub.private, sub.auth))
        except (AssertionError, ValueError, KeyError) as exc:
            with self._lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            return Answer(400)
        push = Push(token, payload, body, headers, now, arrived)
        with self._arrived:
            self.pushes.append(push)
            self._arrived.notify_all()
        if self.on_push is not None:
            self.on_push(push)
        return Answer(201, {"Location": f"{self.origin}/m/{secrets.token_hex(8)}"})

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with service._lock:
                    service._open.add(self.connection)

            def finish(self) -> None:
                with service._lock:
                    service._open.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                token = self.path.rsplit("/", 1)[-1]
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = service._accept(token, headers, body)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        return Handler
