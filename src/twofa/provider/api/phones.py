"""Phone verification and phone information routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from twofa.errors import MissingParameter
from twofa.provider.api.docs import INT, STRING, doc
from twofa.provider.api.guards import api_key, authenticate, read_params, services
from twofa.provider.params import as_int, as_str, required
from twofa.provider.phones.service import phone_param

router = APIRouter(tags=["Authy: phone verification"])
Params = Annotated[dict[str, Any], Depends(read_params)]
Key = Annotated[str | None, Depends(api_key)]
PHONE = {"phone_number": STRING, "country_code": STRING}


@router.post(
    "/protected/json/phones/verification/start",
    openapi_extra=doc(
        body={**PHONE, "via": STRING, "code_length": INT, "locale": STRING},
        required=["phone_number", "country_code"],
    ),
)
def verification_start(request: Request, params: Params, key: Key) -> JSONResponse:
    """Send a 4 to 10 digit code (default 4) by `sms` or `call`; it lives ten minutes.

    Example response: `{"carrier":"…","is_cellphone":true,
    "message":"Text message sent to +1 201-555-0123.","seconds_to_expire":599,"uuid":"…",
    "success":true}`
    """
    app = authenticate(request, key)
    phone = phone_param(params)
    via = as_str(params.get("via") or "sms", "via", max_length=10).lower()
    if via not in {"sms", "call"}:
        raise MissingParameter("via", "must be sms or call")
    length_raw = params.get("code_length")
    length = 4 if length_raw in (None, "") else as_int(length_raw, "code_length")
    if not 4 <= length <= 10:
        raise MissingParameter("code_length", "must be between 4 and 10")
    locale = params.get("locale")
    started = services(request).phones.start(
        app,
        phone,
        via=via,
        code_length=length,
        locale=as_str(locale, "locale", max_length=10) if locale else None,
    )
    if started.via == "sms":
        message = f"Text message sent to {phone.international}."
    else:
        message = f"Call to {phone.international} initiated"
    return JSONResponse(
        {
            "carrier": started.carrier,
            "is_cellphone": started.is_cellphone,
            "is_ported": False,
            "message": message,
            "seconds_to_expire": started.seconds_to_expire,
            "uuid": started.uuid,
            "success": True,
        }
    )


@router.get(
    "/protected/json/phones/verification/check",
    openapi_extra=doc(query={**PHONE, "verification_code": STRING}),
)
def verification_check(request: Request, params: Params, key: Key) -> JSONResponse:
    """Check the code: right → `Verification code is correct.`; wrong → 401/60022;
    nothing pending → 404/60023."""
    app = authenticate(request, key)
    phone = phone_param(params)
    code = as_str(required(params, "verification_code"), "verification_code", max_length=20)
    services(request).phones.check(app, phone, code)
    return JSONResponse({"message": "Verification code is correct.", "success": True})


@router.get("/protected/json/phones/verification/status", openapi_extra=doc(query=PHONE))
def verification_status(request: Request, params: Params, key: Key) -> JSONResponse:
    """The latest verification of the number: pending, verified or expired."""
    app = authenticate(request, key)
    status = services(request).phones.status(app, phone_param(params))
    return JSONResponse(
        {
            "message": f"Phone verification is {status.status}.",
            "status": status.status,
            "seconds_to_expire": status.seconds_to_expire,
            "success": True,
        }
    )


@router.get("/protected/json/phones/info", openapi_extra=doc(query={**PHONE, "user_ip": STRING}))
def phone_info(request: Request, params: Params, key: Key) -> JSONResponse:
    """What the numbering plan says about a number: type (cellphone, landline, voip) and carrier."""
    authenticate(request, key)
    info = services(request).phones.info(phone_param(params))
    return JSONResponse({**info, "success": True})
