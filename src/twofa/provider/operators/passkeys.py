"""Operators' security keys and passkeys (WebAuthn, through py_webauthn).

Registration happens in the console once signed in; sign-in and re-authentication then accept
an assertion from any of the operator's credentials. Challenges are stored and spent by a
DELETE, so an assertion is good once; the signature counter is stored and a counter that goes
backwards (a cloned authenticator) is refused by py_webauthn. User verification is preferred,
not required: a security key without a PIN is still a second factor after the password.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from twofa.provider.audit.service import AuditLog
from twofa.provider.operators import store
from twofa.provider.operators.model import Credential, Operator, OperatorError, SignInFailed
from twofa.storage.database import Database, utcnow
from twofa.text import clean

# py_webauthn is imported by the methods that use it: loading it (and the ASN.1 and COSE
# parsers it brings) costs every provider process and every CLI run a tenth of a second, for
# the few operators who register or use a security key.

CHALLENGE_SECONDS = 300
PURPOSES = ("register", "sign_in", "reauth")
RP_NAME = "twofa console"


class OperatorPasskeys:
    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def credentials(self, operator_id: int) -> list[Credential]:
        with self._db.read() as conn:
            return store.credentials_of(conn, operator_id)

    def _challenge(self, operator: Operator, purpose: str, challenge: bytes) -> None:
        now = utcnow()
        with self._db.write() as conn:
            store.purge_challenges(conn, now)
            store.insert_challenge(
                conn,
                challenge=_to_base64url(challenge),
                operator_id=operator.id,
                purpose=purpose,
                expires_at=now + timedelta(seconds=CHALLENGE_SECONDS),
            )

    def _spend(self, operator: Operator, purpose: str, client_data_challenge: str) -> bytes:
        with self._db.write() as conn:
            ok = store.take_challenge(
                conn,
                challenge=client_data_challenge,
                operator_id=operator.id,
                purpose=purpose,
                now=utcnow(),
            )
        if not ok:
            raise SignInFailed()
        return _from_base64url(client_data_challenge)

    # Registration ------------------------------------------------------------------------------

    def registration_options(self, operator: Operator, *, rp_id: str) -> str:
        """The JSON the browser passes to ``navigator.credentials.create``."""
        from webauthn import generate_registration_options, options_to_json
        from webauthn.helpers.structs import (
            AuthenticatorSelectionCriteria,
            PublicKeyCredentialDescriptor,
            ResidentKeyRequirement,
            UserVerificationRequirement,
        )

        options = generate_registration_options(
            rp_id=rp_id,
            rp_name=RP_NAME,
            user_name=operator.name,
            user_id=f"twofa-operator-{operator.id}".encode(),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=_from_base64url(c.credential_id))
                for c in self.credentials(operator.id)
            ],
        )
        self._challenge(operator, "register", options.challenge)
        return options_to_json(options)

    def register(
        self, operator: Operator, credential: str, *, name: str, rp_id: str, origin: str
    ) -> Credential:
        """Verify the browser's new credential and store it; ``OperatorError`` if it fails."""
        from webauthn import verify_registration_response

        label = clean(name).strip()[:100] or "Security key"
        try:
            challenge = self._spend(operator, "register", _client_challenge(credential))
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=origin,
            )
        except Exception as exc:  # hostile input fails in many ways inside the library
            raise OperatorError("the security key could not be registered") from exc
        credential_id = _to_base64url(verified.credential_id)
        with self._db.write() as conn:
            if store.credential_exists(conn, credential_id):
                raise OperatorError("this security key is registered already")
            stored = store.insert_credential(
                conn,
                operator_id=operator.id,
                credential_id=credential_id,
                public_key=_to_base64url(verified.credential_public_key),
                sign_count=verified.sign_count,
                name=label,
                now=utcnow(),
            )
            self._audit.record(
                "operator.key_added",
                subject=operator.actor,
                data={"credential": stored.id, "name": label},
                actor=operator.actor,
                conn=conn,
            )
        return stored

    def remove(self, operator: Operator, credential_row_id: int) -> None:
        with self._db.write() as conn:
            if not store.delete_credential(conn, operator.id, credential_row_id):
                raise OperatorError("no such security key")
            self._audit.record(
                "operator.key_removed",
                subject=operator.actor,
                data={"credential": credential_row_id},
                actor=operator.actor,
                conn=conn,
            )

    # Assertions (sign-in and re-authentication) ------------------------------------------------

    def authentication_options(self, operator: Operator, *, purpose: str, rp_id: str) -> str:
        """The JSON for ``navigator.credentials.get``: any of the operator's credentials."""
        assert purpose in PURPOSES
        from webauthn import generate_authentication_options, options_to_json
        from webauthn.helpers.structs import (
            PublicKeyCredentialDescriptor,
            UserVerificationRequirement,
        )

        credentials = self.credentials(operator.id)
        if not credentials:
            raise SignInFailed()
        options = generate_authentication_options(
            rp_id=rp_id,
            allow_credentials=[
                PublicKeyCredentialDescriptor(id=_from_base64url(c.credential_id))
                for c in credentials
            ],
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        self._challenge(operator, purpose, options.challenge)
        return options_to_json(options)

    def authenticate(
        self, operator: Operator, credential: str, *, purpose: str, rp_id: str, origin: str
    ) -> Credential:
        """Verify an assertion by one of the operator's credentials; ``SignInFailed`` if not."""
        from webauthn import verify_authentication_response

        try:
            raw_id = str(json.loads(credential)["id"])
            stored = next(c for c in self.credentials(operator.id) if c.credential_id == raw_id)
            challenge = self._spend(operator, purpose, _client_challenge(credential))
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=_from_base64url(stored.public_key),
                credential_current_sign_count=stored.sign_count,
            )
        except Exception as exc:  # a wrong key, a replay, or input the library chokes on
            raise SignInFailed() from exc
        with self._db.write() as conn:
            if not store.record_use(
                conn,
                stored.id,
                old_count=stored.sign_count,
                new_count=verified.new_sign_count,
                now=utcnow(),
            ):
                raise SignInFailed()
        return stored


def _client_challenge(credential: str) -> str:
    """The challenge the browser signed over, read from clientDataJSON (checked again by
    py_webauthn against the one spent)."""
    data: Any = json.loads(credential)
    client_data = json.loads(_from_base64url(data["response"]["clientDataJSON"]))
    challenge = client_data["challenge"]
    if not isinstance(challenge, str) or len(challenge) > 100:
        raise ValueError("challenge")
    return challenge


def _to_base64url(data: bytes) -> str:
    """Unpadded base64url, as WebAuthn writes ids and challenges."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _from_base64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
