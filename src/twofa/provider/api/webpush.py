"""The ``/device/v1/webpush`` routes: the VAPID public key and the device's push subscription.

docs/device-api.md section 7.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from twofa.provider.api.devices import SIGNED, Body, Device, _json_body, ok
from twofa.provider.api.guards import run_db, services
from twofa.provider.webpush.service import WebPushService, parse_subscription

router = APIRouter(prefix="/device/v1/webpush", tags=["Device API"])


def webpush(request: Request) -> WebPushService:
    return services(request).webpush


@router.get("/key")
async def vapid_key(request: Request) -> JSONResponse:
    """The deployment's VAPID public key, the `applicationServerKey` a browser subscribes with.

    Example response: `{"public_key": "BP4z9KsN6nGRTbVY…", "success": true}`
    """
    service = webpush(request)
    return ok({"public_key": await run_db(request, service.public_key)})


@router.put(
    "/subscription",
    openapi_extra={
        **SIGNED,
        **_json_body(
            {
                "endpoint": {"type": "string"},
                "keys": {
                    "type": "object",
                    "properties": {"p256dh": {"type": "string"}, "auth": {"type": "string"}},
                },
            },
            ["endpoint", "keys"],
        ),
    },
)
async def save_subscription(request: Request, device: Device, body: Body) -> JSONResponse:
    """Store or refresh this device's push subscription (`PushSubscription.toJSON()`).

    Example: `{"endpoint": "https://fcm.googleapis.com/fcm/send/…", "keys": {"p256dh": "BCVx…",
    "auth": "BTBZ…"}}` → `{"success": true}`
    """
    service = webpush(request)
    new = parse_subscription(body, service.policy)
    await run_db(request, lambda: service.subscribe(device.id, new))
    return ok({})


@router.delete("/subscription", openapi_extra=SIGNED)
async def delete_subscription(request: Request, device: Device) -> JSONResponse:
    """Forget this device's push subscription (notifications turned off).

    Example response: `{"subscribed": false, "success": true}`
    """
    service = webpush(request)
    await run_db(request, lambda: service.unsubscribe(device.id))
    return ok({"subscribed": False})
