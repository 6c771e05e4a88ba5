"""Twilio Verify v2 routes: Services, Verifications and VerificationCheck under ``/v2``.

Thin: each route authenticates (HTTP Basic), parses the form, makes one service call and
renders the result with absolute URLs on the public base. Errors use Twilio's body.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from twofa.provider.api.guards import run_db
from twofa.provider.api.verify_plumbing import (
    BOOLEAN,
    INTEGER,
    PAGING,
    STRING,
    account,
    created,
    doc,
    form,
    no_content,
    ok,
    page_body,
    public_base,
    verify,
)
from twofa.provider.verify.accounts import Account
from twofa.provider.verify.views import check_view, service_view, verification_view
from twofa.provider.verify.wire import Form, PageRequest

router = APIRouter(prefix="/v2", tags=["Verify v2: services and verifications"])
Caller = Annotated[Account, Depends(account)]
Params = Annotated[Form, Depends(form)]

SERVICE_FIELDS = {
    "FriendlyName": STRING,
    "CodeLength": INTEGER,
    "LookupEnabled": BOOLEAN,
    "SkipSmsToLandlines": BOOLEAN,
    "DtmfInputRequired": BOOLEAN,
    "TtsName": STRING,
    "Psd2Enabled": BOOLEAN,
    "DoNotShareWarningEnabled": BOOLEAN,
    "CustomCodeEnabled": BOOLEAN,
    "Push.IncludeDate": BOOLEAN,
    "Totp.Issuer": STRING,
    "Totp.TimeStep": INTEGER,
    "Totp.CodeLength": INTEGER,
    "Totp.Skew": INTEGER,
    "DefaultTemplateSid": STRING,
    "VerifyEventSubscriptionEnabled": BOOLEAN,
}
START_FIELDS = {
    "To": STRING,
    "Channel": {"type": "string", "enum": ["sms", "call", "email", "whatsapp", "sna", "auto"]},
    "CustomFriendlyName": STRING,
    "CustomCode": STRING,
    "Amount": STRING,
    "Payee": STRING,
    "Locale": STRING,
    "RateLimits": STRING,
    "ChannelConfiguration": STRING,
    "AppHash": STRING,
    "DeviceIp": STRING,
    "RiskCheck": {"type": "string", "enum": ["enable", "disable"]},
}
CHECK_FIELDS = {
    "Code": STRING,
    "To": STRING,
    "VerificationSid": STRING,
    "Amount": STRING,
    "Payee": STRING,
}


@router.post("/Services", openapi_extra=doc(SERVICE_FIELDS, required=["FriendlyName"]))
async def create_service(request: Request, caller: Caller, params: Params) -> JSONResponse:
    """Create a Verify Service.

    Example: `FriendlyName=My+App&CodeLength=6` → 201
    `{"sid":"VA…","friendly_name":"My App","code_length":6,…,"url":"…/v2/Services/VA…"}`
    """
    service = await run_db(request, lambda: verify(request).services.create(caller, params))
    return created(service_view(public_base(request), service))


@router.get("/Services", openapi_extra=doc(query=PAGING))
async def list_services(request: Request, caller: Caller, params: Params) -> JSONResponse:
    """List Services, oldest first. Example: `?PageSize=2` →
    `{"services":[…],"meta":{"next_page_url":"…/v2/Services?PageSize=2&Page=1&PageToken=PA…"}}`
    """
    page = PageRequest.parse(params)
    found = await run_db(request, lambda: verify(request).services.list(caller, page))
    base = public_base(request)
    items = [service_view(base, s) for s in found.items]
    return page_body(request, key="services", items=items, page=page, after=found.next_after)


@router.get("/Services/{sid}", openapi_extra=doc())
async def fetch_service(request: Request, sid: str, caller: Caller) -> JSONResponse:
    """Fetch a Service. Example response: `{"sid":"VA…","friendly_name":"My App",…}`"""
    service = await run_db(request, lambda: verify(request).services.fetch(caller, sid))
    return ok(service_view(public_base(request), service))


@router.post("/Services/{sid}", openapi_extra=doc(SERVICE_FIELDS))
async def update_service(
    request: Request, sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Update a Service. Example: `CodeLength=8` → 200 `{"code_length":8,…}`"""
    service = await run_db(request, lambda: verify(request).services.update(caller, sid, params))
    return ok(service_view(public_base(request), service))


@router.delete("/Services/{sid}", status_code=204, openapi_extra=doc())
async def delete_service(request: Request, sid: str, caller: Caller) -> Response:
    """Delete a Service: 204, and 404/20404 for it from then on."""
    await run_db(request, lambda: verify(request).services.delete(caller, sid))
    return no_content()


@router.post(
    "/Services/{service_sid}/Verifications",
    openapi_extra=doc(START_FIELDS, required=["To", "Channel"]),
)
async def start_verification(
    request: Request, service_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Send a code (or re-send the pending one for this `To`).

    Example: `To=%2B15017122661&Channel=sms` → 201
    `{"sid":"VE…","status":"pending","valid":false,"send_code_attempts":[{…}],…}`
    """
    found = await run_db(
        request, lambda: verify(request).verifications.start(caller, service_sid, params)
    )
    return created(verification_view(public_base(request), found))


@router.get("/Services/{service_sid}/Verifications/{sid}", openapi_extra=doc())
async def fetch_verification(
    request: Request, service_sid: str, sid: str, caller: Caller
) -> JSONResponse:
    """Fetch a pending verification; 404/20404 once it is approved, canceled or expired."""
    found = await run_db(
        request, lambda: verify(request).verifications.fetch(caller, service_sid, sid)
    )
    return ok(verification_view(public_base(request), found))


@router.post(
    "/Services/{service_sid}/Verifications/{sid}",
    openapi_extra=doc(
        {"Status": {"type": "string", "enum": ["canceled", "approved"]}}, required=["Status"]
    ),
)
async def update_verification(
    request: Request, service_sid: str, sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Cancel or approve. Example: `Status=canceled` → 200 `{"status":"canceled",…}`"""
    found = await run_db(
        request, lambda: verify(request).verifications.update(caller, service_sid, sid, params)
    )
    return ok(verification_view(public_base(request), found))


@router.post(
    "/Services/{service_sid}/VerificationCheck",
    openapi_extra=doc(CHECK_FIELDS, required=["Code"]),
)
async def check_verification(
    request: Request, service_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Check a code by `To` or `VerificationSid`.

    Example: `Code=123456&To=%2B15017122661` → 200 `{"status":"approved","valid":true,…}`;
    a wrong code → 200 `{"status":"pending","valid":false,…}`.
    """
    found = await run_db(
        request, lambda: verify(request).verifications.check(caller, service_sid, params)
    )
    return ok(check_view(found))
