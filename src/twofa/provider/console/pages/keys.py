"""The operator's own security keys and passkeys: list, register (WebAuthn), remove.

Adding or removing a key changes how the operator signs in, so both ask for a recent second
factor first.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from twofa.provider.console import auth
from twofa.provider.console.auth import RecentFactor, SignedIn
from twofa.provider.console.templating import redirect, render, services
from twofa.provider.operators.model import OperatorError

router = APIRouter()
NAV = None  # linked beside the operator's name in the header


@router.get("/account/keys", response_class=HTMLResponse)
def keys(request: Request, operator: SignedIn) -> HTMLResponse:
    return render(
        request, "console/keys.html", keys=services(request).passkeys.credentials(operator.id)
    )


@router.post("/account/keys/options")
def key_options(request: Request, operator: RecentFactor) -> Response:
    options = services(request).passkeys.registration_options(operator, rp_id=auth.rp_id(request))
    return Response(options, media_type="application/json")


@router.post("/account/keys/new")
def add_key(
    request: Request, operator: RecentFactor, payload: Annotated[dict[str, Any], Body()]
) -> Response:
    credential = payload.get("credential")
    try:
        services(request).passkeys.register(
            operator,
            json.dumps(credential) if isinstance(credential, dict) else "",
            name=str(payload.get("name") or ""),
            rp_id=auth.rp_id(request),
            origin=auth.expected_origin(request),
        )
    except OperatorError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"redirect": "/console/account/keys"})


@router.get("/account/keys/{key_id}/remove", response_class=HTMLResponse)
def remove_key_page(request: Request, key_id: int, operator: RecentFactor) -> HTMLResponse:
    found = [k for k in services(request).passkeys.credentials(operator.id) if k.id == key_id]
    if not found:
        raise OperatorError("No such security key.")
    return render(request, "console/key_remove.html", key=found[0])


@router.post("/account/keys/{key_id}/remove")
def remove_key(request: Request, key_id: int, operator: RecentFactor) -> Response:
    services(request).passkeys.remove(operator, key_id)
    return redirect(request, "/account/keys", flash="The security key was removed.")
