"""Application details and statistics routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from twofa.provider.api.docs import doc
from twofa.provider.api.guards import api_key, authenticate, services

router = APIRouter(tags=["Authy: application"])
Key = Annotated[str | None, Depends(api_key)]


@router.get("/protected/json/app/details", openapi_extra=doc())
def app_details(request: Request, key: Key) -> JSONResponse:
    """The application's settings.

    Example response: `{"app":{"app_id":3,"name":"Test","plan":"self_hosted","sms_enabled":true,…},
    "message":"Application information.","success":true}`
    """
    app = authenticate(request, key)
    return JSONResponse(
        {
            "app": {
                "app_id": app.id,
                "name": app.name,
                "plan": "self_hosted",
                "sms_enabled": app.sms_enabled,
                "phone_calls_enabled": app.calls_enabled,
                "onetouch_enabled": app.onetouch_enabled,
            },
            "message": "Application information.",
            "success": True,
        }
    )


@router.get("/protected/json/app/stats", openapi_extra=doc())
def app_stats(request: Request, key: Key) -> JSONResponse:
    """Monthly statistics: API calls, authentications, calls, SMS and new users per month."""
    app = authenticate(request, key)
    rows, total = services(request).apps.stats(app.id)
    return JSONResponse(
        {
            "app_id": app.id,
            "count": len(rows),
            "message": "Monthly statistics.",
            "stats": rows,
            "success": True,
            "total_users": total,
        }
    )
