"""Operators, for admins: who may sign in, with which role and factors; disable one (after a
recent second factor). New operators are made with ``twofa operators create``, which shows
their TOTP enrolment on the terminal of whoever runs it, never in a page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from twofa.provider.console.auth import RecentFactor, require
from twofa.provider.console.templating import Nav, redirect, render, services
from twofa.provider.operators.model import Operator, OperatorError

router = APIRouter()
NAV = Nav("Operators", "/operators", roles=("admin",))
Admin = require("admin")


@router.get("/operators", response_class=HTMLResponse)
def operators(request: Request, operator: Operator = Admin) -> HTMLResponse:
    found = services(request)
    rows = [(o, len(found.passkeys.credentials(o.id))) for o in found.operators.all()]
    return render(request, "console/operators.html", rows=rows)


def _other(request: Request, name: str, operator: Operator) -> Operator:
    target = services(request).operators.find(name[:64])
    if target.id == operator.id:
        raise OperatorError("You cannot disable yourself: ask another admin.")
    return target


@router.get("/operators/{name}/disable", response_class=HTMLResponse)
def disable_page(
    request: Request, name: str, operator: RecentFactor, _: Operator = Admin
) -> HTMLResponse:
    target = _other(request, name, operator)
    return render(
        request,
        "console/confirm.html",
        title=f"Disable {target.name}?",
        message=f"{target.name} can no longer sign in, and their sessions end now.",
        action=f"/operators/{target.name}/disable",
        button="Disable operator",
        cancel="/operators",
    )


@router.post("/operators/{name}/disable")
def disable(request: Request, name: str, operator: RecentFactor, _: Operator = Admin) -> Response:
    target = _other(request, name, operator)
    services(request).operators.disable(target.name, actor=operator.actor)
    return redirect(request, "/operators", flash=f"{target.name} was disabled.")
