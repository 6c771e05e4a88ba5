"""The ``/protected/json`` routes: users, SMS and voice codes, token verification, QR codes."""

from __future__ import annotations

import io
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from twofa.crypto import derive
from twofa.errors import MissingParameter, NotFound
from twofa.provider.api.docs import BOOL, INT, STRING, doc
from twofa.provider.api.guards import api_key, authenticate, read_params, services
from twofa.provider.errors_http import Encoded
from twofa.provider.messaging.gateways import Channel
from twofa.provider.params import as_bool, as_int, as_str
from twofa.provider.phone_numbers import mask_sms, mask_status

TAG = "Authy: users and tokens"
router = APIRouter(tags=[TAG])
Params = Annotated[dict[str, Any], Depends(read_params)]
Key = Annotated[str | None, Depends(api_key)]
QR_LINK_SECONDS = 600


def ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse({**body, "success": True} if "success" not in body else body)


@router.post(
    "/protected/json/users/new",
    openapi_extra=doc(
        body={
            "user": {
                "type": "object",
                "properties": {"email": STRING, "cellphone": STRING, "country_code": INT},
            },
            "send_install_link_via_sms": BOOL,
        }
    ),
)
def create_user(request: Request, params: Params, key: Key) -> JSONResponse:
    """Register a user; the same phone number returns the same id.

    Example: `{"user": {"email": "a@b.com", "cellphone": "555-123-4567", "country_code": 1}}`
    → `{"message":"User created successfully.","user":{"id":1635},"success":true}`
    """
    app = authenticate(request, key)
    user_params = params.get("user")
    if not isinstance(user_params, dict):
        user_params = {k: params.get(k) for k in ("email", "cellphone", "country_code")}
    user = services(request).users.create(
        app.id,
        email=user_params.get("email"),
        cellphone=user_params.get("cellphone"),
        country_code=user_params.get("country_code", params.get("country_code")),
    )
    install = params.get("send_install_link_via_sms", user_params.get("send_install_link_via_sms"))
    if as_bool(install):
        base = services(request).settings.public_url.rstrip("/") or str(request.base_url)
        services(request).codes.send_install_link(app, user, f"{base.rstrip('/')}/authenticator/")
    return ok({"message": "User created successfully.", "user": {"id": user.id}})


@router.get("/protected/json/users/{authy_id}/status", openapi_extra=doc())
def user_status(request: Request, authy_id: str, key: Key) -> JSONResponse:
    """The user's status: `registered` (has an authenticator device), `confirmed`, devices.

    Example response: `{"status":{"authy_id":1635,"confirmed":true,"registered":false,...},
    "message":"User status.","success":true}`
    """
    app = authenticate(request, key)
    user, devices = services(request).users.status(app.id, authy_id)
    status = {
        "authy_id": user.id,
        "confirmed": user.confirmed,
        "registered": bool(devices),
        "country_code": user.phone.country_code,
        "phone_number": mask_status(user.phone),
        "email": user.email,
        "devices": sorted({d.os_type for d in devices}),
        "has_hard_token": False,
        "account_disabled": False,
        "detailed_devices": [
            {
                "device_type": "authy",
                "os_type": d.os_type,
                "device_name": d.name,
                "registration_device_id": None,
                "registration_method": "sms",
                "device_id": d.id,
                "last_sync_date": int(d.last_seen_at.timestamp()) if d.last_seen_at else 0,
                "creation_date": int(d.created_at.timestamp()),
            }
            for d in devices
        ],
        "deleted_devices": [],
    }
    return ok({"status": status, "message": "User status."})


def _delete(request: Request, authy_id: str, key: str | None) -> JSONResponse:
    app = authenticate(request, key)
    services(request).users.delete(app.id, authy_id)
    return ok({"message": "User removed from application"})


@router.post("/protected/json/users/{authy_id}/delete", openapi_extra=doc())
def delete_user(request: Request, authy_id: str, key: Key) -> JSONResponse:
    """Delete the user at once (Python, uphold and Rust clients)."""
    return _delete(request, authy_id, key)


@router.post("/protected/json/users/delete/{authy_id}", openapi_extra=doc())
def delete_user_alias(request: Request, authy_id: str, key: Key) -> JSONResponse:
    """Delete the user (npm, Ruby and Java clients' path)."""
    return _delete(request, authy_id, key)


@router.post("/protected/json/users/{authy_id}/remove", openapi_extra=doc())
def remove_user(request: Request, authy_id: str, key: Key) -> JSONResponse:
    """Delete the user (PHP client's path)."""
    return _delete(request, authy_id, key)


@router.post(
    "/protected/json/users/{authy_id}/register_activity",
    openapi_extra=doc(body={"type": STRING, "data": {"type": "object"}, "user_ip": STRING}),
)
def register_activity(request: Request, authy_id: str, params: Params, key: Key) -> JSONResponse:
    """Accept an activity report about the user (kept for client compatibility)."""
    app = authenticate(request, key)
    services(request).users.get(app.id, authy_id)
    return ok({"message": "Activity was created."})


def _send(
    request: Request,
    authy_id: str,
    params: dict[str, Any],
    key: str | None,
    channel: Channel,
) -> JSONResponse:
    app = authenticate(request, key)
    action = params.get("action_message") or params.get("action")
    result = services(request).codes.send(
        app,
        authy_id,
        channel=channel,
        force=as_bool(params.get("force")),
        action=as_str(action, "action", max_length=255) if action else None,
    )
    cellphone = mask_sms(result.user.phone)
    if result.ignored:
        message = (
            "Ignored: SMS is not needed for smartphones. Pass force=true if you want to "
            "actually send it anyway."
            if channel == "sms"
            else "Call ignored. User is using  App Tokens and this call is not necessary. "
            "Pass force=true if you still want to call users that are using the App."
        )
        return ok(
            {"ignored": True, "device": result.device, "cellphone": cellphone, "message": message}
        )
    message = "SMS token was sent" if channel == "sms" else "Call started..."
    return ok({"message": message, "cellphone": cellphone})


SEND_DOC = doc(query={"force": BOOL, "action": STRING, "action_message": STRING, "locale": STRING})


@router.get("/protected/json/sms/{authy_id}", openapi_extra=SEND_DOC)
def request_sms(request: Request, authy_id: str, params: Params, key: Key) -> JSONResponse:
    """Send a code by SMS; ignored (and `ignored: true`) when the user has the app, unless `force`.

    Example response:
    `{"success":true,"message":"SMS token was sent","cellphone":"+1-XXX-XXX-XX67"}`
    """
    return _send(request, authy_id, params, key, "sms")


@router.get("/protected/json/call/{authy_id}", openapi_extra=SEND_DOC)
def request_call(request: Request, authy_id: str, params: Params, key: Key) -> JSONResponse:
    """Read a code out in a voice call; the same rules as SMS."""
    return _send(request, authy_id, params, key, "call")


VERIFY_PATH = "/protected/json/verify/{token}/{authy_id}"
VERIFY_DOC = doc(query={"force": BOOL})
_VALID_RESPONSE = JSONResponse(
    {
        "message": "Token is valid.",
        "token": "is valid",
        "success": "true",
        "device": {"id": None, "os_type": None},
    }
)
_VALID, _VALID_HEADERS = bytes(_VALID_RESPONSE.body), _VALID_RESPONSE.raw_headers


async def verify_token(request: Request) -> Response:
    """Verify an SMS/voice code, an app code or a generic authenticator code, once.

    Example response: `{"message":"Token is valid.","token":"is valid","success":"true",...}`;
    wrong code: 401 with `error_code` 60020; a code already used: 401 with 60019.
    """
    # The busiest route: a plain route (no dependency injection, no response model), its
    # parameters read directly; the answer to a valid code is always the same bytes.
    token: str = request.path_params["token"]
    authy_id: str = request.path_params["authy_id"]
    params = await read_params(request)
    key = await api_key(request)
    svc = services(request)
    force = as_bool(params.get("force"))

    def work() -> None:
        svc.codes.verify(svc.apps.authenticate(key), authy_id, token, force=force)

    await svc.db.run(work, on_loop=True)  # PostgreSQL: the async driver, no thread
    return Encoded(_VALID, 200, _VALID_HEADERS)


@router.post(
    "/protected/json/users/{authy_id}/secret",
    openapi_extra=doc(body={"qr_size": INT, "label": STRING}),
)
def generate_qr(request: Request, authy_id: str, params: Params, key: Key) -> JSONResponse:
    """The user's generic authenticator secret: an otpauth URI and a QR code image URL.

    Codes are 6 digits every 30 s. `qr_code` is a signed link to a PNG, valid ten minutes.
    Example response: `{"message":"QR code generated.","qr_code":"https://…/qr/….png",
    "uri":"otpauth://totp/…","label":"Demo","issuer":"My App","success":true}`
    """
    app = authenticate(request, key)
    label = params.get("label")
    size = params.get("qr_size")
    size_value = min(max(as_int(size, "qr_size"), 100), 1000) if size not in (None, "") else 300
    svc = services(request)
    secret = svc.codes.generic_secret(
        app, authy_id, label=as_str(label, "label", max_length=100) if label else None
    )
    token = qr_links(svc).dumps(
        {"a": app.id, "u": int(authy_id), "l": secret.label, "s": size_value}
    )
    base = svc.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return ok(
        {
            "message": "QR code generated.",
            "qr_code": f"{base}/qr/{token}.png",
            "uri": secret.uri,
            "label": secret.label,
            "issuer": secret.issuer,
        }
    )


def qr_links(svc: Any) -> URLSafeTimedSerializer:
    """Signer of QR image links (keyed by a subkey of the master secret)."""
    return URLSafeTimedSerializer(derive(svc.settings.key, "twofa:qr-links"), salt="qr")


@router.get(
    "/qr/{token}.png",
    tags=["Authy: users and tokens"],
    responses={200: {"content": {"image/png": {}}}},
)
def qr_image(request: Request, token: str) -> Response:
    """The QR code PNG behind a link from `users/{id}/secret` (10-minute signed link)."""
    svc = services(request)
    try:
        data = qr_links(svc).loads(token, max_age=QR_LINK_SECONDS)
        app = svc.apps.get(int(data["a"]))
        secret = svc.codes.generic_secret(app, str(data["u"]), label=str(data["l"]))
        size = int(data["s"])
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise NotFound("QR code link is invalid or expired") from exc
    qr = segno.make(secret.uri, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=max(1, size // qr.symbol_size(border=2)[0]), border=2)
    return Response(
        buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "no-store"}
    )


@router.get(
    "/protected/json/registrations/status", openapi_extra=doc(query={"custom_user_id": STRING})
)
def registration_status(request: Request, params: Params, key: Key) -> JSONResponse:
    """Authy's SDK registration flow is not offered: every lookup answers 404 / 60035."""
    authenticate(request, key)
    if not params.get("custom_user_id"):
        raise MissingParameter("custom_user_id")
    raise _RegistrationNotFound()


class _RegistrationNotFound(NotFound):
    code = "60035"
    default_message = "Registration request not found"


@router.post("/protected/json/users/{authy_id}/update", openapi_extra=doc(body={"email": STRING}))
def update_user(request: Request, authy_id: str, params: Params, key: Key) -> JSONResponse:
    """Change the user's e-mail address (Ruby client); the phone stays the identity."""
    app = authenticate(request, key)
    services(request).users.update_email(app.id, authy_id, params.get("email"))
    return ok({"message": "User was updated successfully"})
