"""Applications: the list, with each one's callback receiver state."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from twofa.provider.console.auth import SignedIn
from twofa.provider.console.templating import Nav, render, services
from twofa.provider.deliveries.authy import app_target
from twofa.provider.deliveries.dispatcher import Receiver

router = APIRouter()
NAV = Nav("Applications", "/apps")


@router.get("/apps", response_class=HTMLResponse)
def applications(request: Request, operator: SignedIn) -> HTMLResponse:
    found = services(request)
    receivers = found.deliveries.receivers()
    rows = [(app, receivers.get(app_target(app.id), Receiver("ok", 0))) for app in found.apps.all()]
    return render(request, "console/apps/list.html", rows=rows)
