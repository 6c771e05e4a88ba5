"""``/console/``: where a signed-in operator lands."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from twofa.provider.console.auth import SignedIn
from twofa.provider.console.templating import redirect

router = APIRouter()
NAV = None


@router.get("/")
def home(request: Request, operator: SignedIn) -> RedirectResponse:
    return redirect(request, "/dashboard")
