"""Keys derived from the master secret, secrets encrypted at rest, codes hashed with a pepper.

Everything here is keyed by ``TWOFA_SECRET_KEY``: a copy of the database alone reveals no API key,
no TOTP secret and no code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PLAINTEXT_CACHE = 50_000
# A sandbox application's salt starts with SANDBOX_SALT and its key with SANDBOX_KEY_PREFIX.
# The key's form follows from the salt alone, so everything that recomputes a key (callback
# signatures) gets the prefix without knowing about sandboxes, and a key shows what it is.
SANDBOX_SALT = "sandbox:"
SANDBOX_KEY_PREFIX = "sandbox_"


def derive(master: bytes, purpose: str, length: int = 32) -> bytes:
    """A subkey for one purpose (HKDF-SHA256), so no two uses share key material."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(
        master
    )


class Keyring:
    """The subkeys twofa uses, derived once from the master secret."""

    def __init__(self, master: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive(master, "twofa:totp-secrets")))
        self._code_key = derive(master, "twofa:code-hash")
        self._api_key_key = derive(master, "twofa:api-keys")
        self._token_key = derive(master, "twofa:verify-tokens")
        self._plain: dict[str, str] = {}
        self._plain_lock = threading.Lock()

    def encrypt(self, plaintext: str) -> str:
        """Encrypt a secret for storage (Fernet: AES-128-CBC + HMAC-SHA256)."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Decrypt a stored secret; raises ``ValueError`` if it was not made with this key."""
        cached = self._plain.get(token)
        if cached is not None:
            return cached
        try:
            plain = self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret was encrypted with another key") from exc
        # Keyed by ciphertext, so a cached value can never be stale; bounded in size.
        with self._plain_lock:
            if len(self._plain) >= PLAINTEXT_CACHE:
                self._plain.pop(next(iter(self._plain)))
            self._plain[token] = plain
        return plain

    def code_hash(self, purpose: str, code: str) -> str:
        """Keyed hash of a short code.

        A plain hash of a 7-digit code falls to a brute force of ten million tries; keyed with
        the master secret it cannot be reversed from the database alone.
        """
        return hmac.new(self._code_key, f"{purpose}:{code}".encode(), hashlib.sha256).hexdigest()

    def api_key(self, salt: str) -> str:
        """The API key for an application's key salt.

        Keys are derived rather than stored: the database keeps only a random salt and the
        key's SHA-256, yet the provider can still recompute the key to sign callbacks with it
        (the Authy callback signature is an HMAC under the API key).
        """
        raw = hmac.new(self._api_key_key, salt.encode(), hashlib.sha256).digest()
        key = base64.b32encode(raw).decode().rstrip("=")[:40]
        return SANDBOX_KEY_PREFIX + key if salt.startswith(SANDBOX_SALT) else key

    def hex_token(self, salt: str) -> str:
        """A 32-hex-digit secret for a salt (Verify auth tokens and API key secrets).

        Derived like API keys, for the same reason: the database keeps only the salt and a
        hash, and the provider can recompute an account's auth token to sign its webhooks.
        """
        return hmac.new(self._token_key, salt.encode(), hashlib.sha256).hexdigest()[:32]


def api_key_hash(api_key: str) -> str:
    """The lookup hash of an API key (SHA-256 suffices: the key has 200 bits of entropy)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_salt(*, sandbox: bool = False) -> str:
    """A random salt for a new API key (a sandbox key's salt is marked as one)."""
    return (SANDBOX_SALT if sandbox else "") + secrets.token_hex(16)


def is_sandbox_key(api_key: str) -> bool:
    """Whether the key has a sandbox application's form (real keys are base32, upper case)."""
    return api_key.startswith(SANDBOX_KEY_PREFIX)


def public_id() -> str:
    """A 24-hex-character identifier, the shape Authy's Mongo ids had."""
    return secrets.token_hex(12)


def random_digits(length: int) -> str:
    """A uniformly random string of decimal digits from the OS CSPRNG."""
    return "".join(secrets.choice("0123456789") for _ in range(length))
