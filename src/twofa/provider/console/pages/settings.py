"""``/console/settings``: the settings this provider runs with, every secret masked
(``reports/effective.py`` decides what is secret, by type and by name)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from twofa.provider.console.auth import SignedIn
from twofa.provider.console.templating import Nav, render, services

router = APIRouter()
NAV = Nav("Settings", "/settings")


@router.get("/settings", response_class=HTMLResponse)
def effective(request: Request, operator: SignedIn) -> HTMLResponse:
    return render(
        request, "console/reports/settings.html", rows=services(request).reports.settings()
    )
