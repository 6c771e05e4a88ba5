"""Verify Services: create, fetch, update, list and delete, with the settings that matter.

A deleted service keeps its row (the audit trail refers to it) and answers 404 from then on.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Row

from twofa.provider.audit.service import AuditLog
from twofa.provider.verify.accounts import Account
from twofa.provider.verify.errors import InvalidParameter, ResourceNotFound
from twofa.provider.verify.model import Page, VerifyService
from twofa.provider.verify.wire import Form, PageRequest, canonical, is_sid, new_sid
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import verify_credentials, verify_services

MAX_FRIENDLY_NAME = 30  # Twilio's error dictionary: "FriendlyName is too long (max 30 characters)"
DEFAULT_CODE_LENGTH = 6

DEFAULTS: dict[str, Any] = {
    "lookup_enabled": False,
    "psd2_enabled": False,
    "skip_sms_to_landlines": False,
    "dtmf_input_required": False,
    "tts_name": None,
    "do_not_share_warning_enabled": False,
    "custom_code_enabled": False,
    "push": {"include_date": False, "apn_credential_sid": None, "fcm_credential_sid": None},
    "totp": {"issuer": None, "time_step": 30, "code_length": 6, "skew": 1},
    "whatsapp": {"msg_service_sid": None, "from": None},
    "passkeys": {
        "relying_party": {"id": None, "name": None, "origins": None},
        "authenticator_attachment": None,
        "discoverable_credentials": None,
        "user_verification": None,
    },
    "default_template_sid": None,
    "verify_event_subscription_enabled": False,
}

# Form parameter -> where its value lives in the service's config.
FLAGS = {
    "LookupEnabled": ("lookup_enabled",),
    "SkipSmsToLandlines": ("skip_sms_to_landlines",),
    "DtmfInputRequired": ("dtmf_input_required",),
    "Psd2Enabled": ("psd2_enabled",),
    "DoNotShareWarningEnabled": ("do_not_share_warning_enabled",),
    "CustomCodeEnabled": ("custom_code_enabled",),
    "VerifyEventSubscriptionEnabled": ("verify_event_subscription_enabled",),
    "Push.IncludeDate": ("push", "include_date"),
}
TEXTS = {
    "TtsName": ("tts_name",),
    "DefaultTemplateSid": ("default_template_sid",),
    "Push.ApnCredentialSid": ("push", "apn_credential_sid"),
    "Push.FcmCredentialSid": ("push", "fcm_credential_sid"),
    "Whatsapp.MsgServiceSid": ("whatsapp", "msg_service_sid"),
    "Whatsapp.From": ("whatsapp", "from"),
    "Totp.Issuer": ("totp", "issuer"),
    "Passkeys.RelyingParty.Id": ("passkeys", "relying_party", "id"),
    "Passkeys.RelyingParty.Name": ("passkeys", "relying_party", "name"),
    "Passkeys.RelyingParty.Origins": ("passkeys", "relying_party", "origins"),
    "Passkeys.AuthenticatorAttachment": ("passkeys", "authenticator_attachment"),
    "Passkeys.DiscoverableCredentials": ("passkeys", "discoverable_credentials"),
    "Passkeys.UserVerification": ("passkeys", "user_verification"),
}
INTEGERS = {
    "Totp.TimeStep": (("totp", "time_step"), 20, 60),
    "Totp.CodeLength": (("totp", "code_length"), 3, 8),
    "Totp.Skew": (("totp", "skew"), 0, 2),
}
SID_PATTERNS = {
    "Push.ApnCredentialSid": "CR",
    "Push.FcmCredentialSid": "CR",
    "DefaultTemplateSid": "HJ",
    "Whatsapp.MsgServiceSid": "MG",
}


def _put(config: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = config
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _friendly_name(form: Form, *, required: bool) -> str | None:
    name = form.text("FriendlyName", max_length=MAX_FRIENDLY_NAME, required=required)
    if name is not None and not name.strip():
        raise InvalidParameter("FriendlyName")
    return name


def apply_settings(config: dict[str, Any], form: Form) -> dict[str, Any]:
    """A copy of ``config`` with every setting the form names; malformed values give 60200."""
    result = copy.deepcopy(config)
    for name, path in FLAGS.items():
        flag = form.flag(name)
        if flag is not None:
            _put(result, path, flag)
    for name, path in TEXTS.items():
        text = form.text(name, max_length=200)
        if text is None:
            continue
        prefix = SID_PATTERNS.get(name)
        if prefix and text and not is_sid(text, prefix):
            raise InvalidParameter(name)
        _put(result, path, text or None)
    for name, (path, low, high) in INTEGERS.items():
        number = form.integer(name, low, high)
        if number is not None:
            _put(result, path, number)
    return result


def _service(row: Row) -> VerifyService:
    return VerifyService(
        id=row.id,
        sid=row.sid,
        app_id=row.app_id,
        account_sid=row.account_sid,
        friendly_name=row.friendly_name,
        code_length=row.code_length,
        config=row.config,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
    )


_SELECT = select(verify_services, verify_credentials.c.sid.label("account_sid")).join(
    verify_credentials,
    (verify_credentials.c.app_id == verify_services.c.app_id)
    & (verify_credentials.c.kind == "account"),
)


def load_service(conn: Connection, account: Account, sid: str) -> VerifyService:
    """The account's live service ``sid``; 404/20404 for any other (or a malformed) SID."""
    if not is_sid(sid, "VA"):
        raise ResourceNotFound()
    row = conn.execute(
        _SELECT.where(
            verify_services.c.sid == canonical(sid),
            verify_services.c.app_id == account.app_id,
            verify_services.c.deleted_at.is_(None),
        )
    ).first()
    if row is None:
        raise ResourceNotFound()
    return _service(row)


class ServiceCatalog:
    """The Services resource of one provider."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def create(self, account: Account, form: Form) -> VerifyService:
        name = _friendly_name(form, required=True)
        code_length = form.integer("CodeLength", 4, 10) or DEFAULT_CODE_LENGTH
        config = apply_settings(DEFAULTS, form)
        now = utcnow()
        sid = new_sid("VA")
        with self._db.write() as conn:
            conn.execute(
                insert(verify_services).values(
                    sid=sid,
                    app_id=account.app_id,
                    friendly_name=name,
                    code_length=code_length,
                    config=config,
                    created_at=now,
                    updated_at=now,
                )
            )
            self._audit.record(
                "verify.service.created", app_id=account.app_id, subject=sid, conn=conn
            )
            return load_service(conn, account, sid)

    def fetch(self, account: Account, sid: str) -> VerifyService:
        with self._db.read() as conn:
            return load_service(conn, account, sid)

    def update(self, account: Account, sid: str, form: Form) -> VerifyService:
        name = _friendly_name(form, required=False)
        code_length = form.integer("CodeLength", 4, 10)
        with self._db.write() as conn:
            service = load_service(conn, account, sid)
            config = apply_settings(service.config, form)
            conn.execute(
                update(verify_services)
                .where(verify_services.c.id == service.id)
                .values(
                    friendly_name=name or service.friendly_name,
                    code_length=code_length or service.code_length,
                    config=config,
                    updated_at=utcnow(),
                )
            )
            self._audit.record(
                "verify.service.updated", app_id=account.app_id, subject=service.sid, conn=conn
            )
            return load_service(conn, account, sid)

    def delete(self, account: Account, sid: str) -> None:
        with self._db.write() as conn:
            service = load_service(conn, account, sid)
            conn.execute(
                update(verify_services)
                .where(verify_services.c.id == service.id)
                .values(deleted_at=utcnow())
            )
            self._audit.record(
                "verify.service.deleted", app_id=account.app_id, subject=service.sid, conn=conn
            )

    def list(self, account: Account, page: PageRequest) -> Page[VerifyService]:
        with self._db.read() as conn:
            rows = conn.execute(
                _SELECT.where(
                    verify_services.c.app_id == account.app_id,
                    verify_services.c.deleted_at.is_(None),
                    verify_services.c.id > page.after,
                )
                .order_by(verify_services.c.id)
                .limit(page.size + 1)
            ).all()
        items = [_service(r) for r in rows[: page.size]]
        more = len(rows) > page.size
        return Page(items, items[-1].id if more else None)
