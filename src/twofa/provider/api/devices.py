"""The ``/device/v1`` routes used by the authenticator (docs/device-api.md).

Routes only translate: a dependency authenticates the signed request, one service call decides.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from twofa.errors import DeviceNotFound, InvalidRequest
from twofa.provider.api.guards import run_db, services
from twofa.provider.devices.auth import SignedRequest
from twofa.provider.devices.model import EnrolledDevice
from twofa.provider.devices.registration import parse_new_device, parse_new_registration
from twofa.provider.devices.service import (
    UUID,
    DeviceService,
    parse_device_decision,
    parse_signed_decision,
)
from twofa.provider.devices.stream import device_events, parse_last_event_id

router = APIRouter(prefix="/device/v1", tags=["Device API"])

SIGNED = {
    "parameters": [
        {
            "name": name,
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": text,
        }
        for name, text in (
            ("X-Twofa-Device", "the device uuid"),
            ("X-Twofa-Timestamp", "unix time in seconds"),
            ("X-Twofa-Nonce", "16-64 characters [A-Za-z0-9_-], fresh per request"),
            ("X-Twofa-Signature", "base64url P1363 ECDSA P-256/SHA-256 signature"),
        )
    ]
}


def _json_body(schema: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": schema, "required": required}
                }
            },
        }
    }


def device_service(request: Request) -> DeviceService:
    return services(request).devices


async def json_body(request: Request) -> dict[str, Any]:
    """The JSON object body (an empty body reads as ``{}``); 400/60002 for anything else."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        # RecursionError: the parser recurses once per nesting level ([[[[…).
        raise InvalidRequest("The body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object")
    return body


def code_param(params: dict[str, Any]) -> str | None:
    """The registration code as text (a JSON number is accepted); None for anything else."""
    code = params.get("code")
    return str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None


async def signed_device(request: Request) -> EnrolledDevice:
    """Authenticate the request's device signature (docs/device-api.md section 2)."""
    return await _authenticate(request, pending=False)


async def signed_device_maybe_pending(request: Request) -> EnrolledDevice:
    """Like ``signed_device``, but a device still waiting for approval may ask about itself."""
    return await _authenticate(request, pending=True)


async def _authenticate(request: Request, *, pending: bool) -> EnrolledDevice:
    body = await request.body()
    path = request.scope.get("raw_path") or request.scope["path"].encode()
    query = request.scope.get("query_string", b"")
    target = path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    headers = request.headers
    signed = SignedRequest(
        method=request.method,
        host=request.headers.get("host", ""),
        target=target,
        body=body,
        device=headers.get("x-twofa-device"),
        timestamp=headers.get("x-twofa-timestamp"),
        nonce=headers.get("x-twofa-nonce"),
        signature=headers.get("x-twofa-signature"),
    )
    service = device_service(request)
    return await run_db(request, lambda: service.authenticate(signed, pending=pending))


Service = Annotated[DeviceService, Depends(device_service)]
Device = Annotated[EnrolledDevice, Depends(signed_device)]
MaybePendingDevice = Annotated[EnrolledDevice, Depends(signed_device_maybe_pending)]
Body = Annotated[dict[str, Any], Depends(json_body)]


def ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse({**body, "success": True})


@router.post(
    "/registrations",
    openapi_extra=_json_body(
        {
            "country_code": {"type": "string"},
            "phone_number": {"type": "string"},
            "via": {"type": "string", "enum": ["sms", "call"]},
        },
        ["country_code", "phone_number"],
    ),
)
def start_registration(request: Request, body: Body, service: Service) -> JSONResponse:
    """Send a registration code to a phone; the answer is the same for any valid number.

    Example: `{"country_code": "1", "phone_number": "201-555-0123", "via": "sms"}` →
    `{"registration_id": "6f1c…", "seconds_to_expire": 600, "success": true}`
    """
    # The peer, or the client a trusted proxy names (uvicorn applies TWOFA_TRUSTED_PROXY).
    client_ip = request.client.host if request.client else None
    started = service.registrations.start(parse_new_registration(body), client_ip=client_ip)
    return ok(
        {"registration_id": started.registration_id, "seconds_to_expire": started.seconds_to_expire}
    )


@router.post(
    "/registrations/{registration_id}/confirm",
    openapi_extra=_json_body(
        {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "os_type": {"type": "string", "enum": ["web", "cli"]},
            "public_key": {"type": "object"},
        },
        ["code", "name", "os_type", "public_key"],
    ),
)
def confirm_registration(
    request: Request, registration_id: str, body: Body, service: Service
) -> JSONResponse:
    """Check the code and enrol the device's P-256 public key.

    Example: `{"code": "123456", "name": "Alice's phone", "os_type": "web", "public_key":
    {"kty": "EC", "crv": "P-256", "x": "…", "y": "…"}}` → `{"device": {"uuid": "…", …},
    "success": true}`
    """
    new = parse_new_device(body)
    ip = request.client.host if request.client else None
    device = service.enrol(registration_id, code_param(body), new, ip=ip)
    answer: dict[str, Any] = {"device": device.json()}
    if not device.active:
        answer["approval"] = {"number": device.approval_number}
    return ok(answer)


@router.get("/me", openapi_extra=SIGNED)
def me(device: MaybePendingDevice) -> JSONResponse:
    """This device (also while it waits for approval: `"state": "pending"`).

    Example response: `{"device": {…, "state": "active"}, "phone": "+12015550123",
    "success": true}`
    """
    return ok({"device": device.json(), "phone": device.phone_e164})


@router.get("/accounts", openapi_extra=SIGNED)
def accounts(device: Device, service: Service) -> JSONResponse:
    """TOTP accounts of this phone.

    Example response: `{"accounts": [{"app_name": "Demo", "authy_id": 12, "secret": "…",
    "digits": 7, "period": 30, "algorithm": "SHA1"}], "success": true}`
    """
    return ok({"accounts": service.accounts(device)})


@router.get("/requests", openapi_extra=SIGNED)
def pending_requests(device: Device, service: Service) -> JSONResponse:
    """Pending approval requests, oldest first. Example: `{"requests": [{…}], "success": true}`"""
    return ok({"requests": service.pending(device)})


@router.get("/history", openapi_extra=SIGNED)
def history(device: Device, service: Service) -> JSONResponse:
    """The 50 latest answered or expired requests. Example: `{"requests": [], "success": true}`"""
    return ok({"requests": service.history(device)})


@router.get("/requests/{uuid}", openapi_extra=SIGNED)
def approval_request(uuid: str, device: Device, service: Service) -> JSONResponse:
    """One request of this phone. Example: `{"request": {"uuid": "…", …}, "success": true}`"""
    return ok({"request": service.request(device, uuid)})


@router.post(
    "/requests/{uuid}/decision",
    openapi_extra={
        **SIGNED,
        **_json_body(
            {
                "decision": {"type": "string", "enum": ["approve", "deny"]},
                "signing_time": {"type": "integer"},
                "number": {"type": "integer"},
                "signature": {"type": "string"},
            },
            ["decision", "signing_time", "signature"],
        ),
    },
)
async def decide(
    request: Request, uuid: str, device: Device, body: Body, service: Service
) -> JSONResponse:
    """Approve or deny with a signed decision; fires the application's callback.

    Example: `{"decision": "approve", "signing_time": 1764150010, "number": 42, "signature":
    "…"}` → `{"approval_request": {"uuid": "…", "status": "approved"}, "success": true}`
    """
    decision = parse_signed_decision(body)
    outcome = await run_db(request, lambda: service.decide(device, uuid, decision))
    answer: dict[str, Any] = {"approval_request": {"uuid": outcome.uuid, "status": outcome.status}}
    if outcome.number_mismatch:
        answer["message"] = "The number did not match the one shown; the request was denied."
    return ok(answer)


@router.get("/devices", openapi_extra=SIGNED)
def list_devices(device: Device, service: Service) -> JSONResponse:
    """The devices of this phone. Example: `{"devices": [{"uuid": "…", "current": true, …}]}`"""
    return ok({"devices": service.devices(device)})


@router.get("/devices/pending", openapi_extra=SIGNED)
def pending_devices(device: Device, service: Service) -> JSONResponse:
    """Devices of this phone waiting for approval.

    Example: `{"devices": [{"uuid": "…", "name": "New phone", "os_type": "web",
    "registered_from": "203.0.113.7", "created_at": 1764150000, "expires_at": 1764150600}],
    "success": true}`
    """
    return ok({"devices": service.approvals.pending(device.phone_e164)})


@router.post(
    "/devices/{uuid}/approval",
    openapi_extra={
        **SIGNED,
        **_json_body(
            {
                "decision": {"type": "string", "enum": ["approve", "deny"]},
                "number": {"type": "integer"},
            },
            ["decision"],
        ),
    },
)
def decide_device(uuid: str, device: Device, body: Body, service: Service) -> JSONResponse:
    """Approve a waiting device by typing the number it shows, or deny it.

    Example: `{"decision": "approve", "number": 42}` → `{"device": {"uuid": "…",
    "status": "approved"}, "success": true}`. A wrong number denies the device.
    """
    choice, number = parse_device_decision(body)
    if not UUID.match(uuid):
        raise DeviceNotFound()
    status = service.approvals.decide(device, uuid, approve=choice, number=number)
    answer: dict[str, Any] = {"device": {"uuid": uuid, "status": status}}
    if choice and status == "denied":
        answer["message"] = "The number did not match the one shown; the device was denied."
    return ok(answer)


@router.delete("/devices/{uuid}", openapi_extra=SIGNED)
def revoke_device(uuid: str, device: Device, service: Service) -> JSONResponse:
    """Revoke a device of this phone (itself included). Example response: `{"success": true}`"""
    service.revoke(device, uuid)
    return ok({})


@router.get("/events", openapi_extra=SIGNED, response_class=StreamingResponse)
async def events(request: Request, device: Device, service: Service) -> StreamingResponse:
    """Live events (Server-Sent Events): `request`, `request.ended`, `revoked`.

    Example frame: `id: 1764150000123\\nevent: request\\ndata: {"uuid": "…", …}`
    """
    last = parse_last_event_id(request.headers.get("last-event-id"))
    wired = services(request)
    stream = device_events(
        service, wired.bus, device, last, heartbeat=wired.settings.stream_heartbeat
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
