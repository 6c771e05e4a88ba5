"""Applications: the list, creating one (its key shown once), rotating its key and deleting
it (both after a recent second factor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from twofa.provider.console.auth import RecentFactor, SignedIn, require
from twofa.provider.console.templating import Nav, redirect, render, services
from twofa.provider.deliveries.authy import app_target
from twofa.provider.deliveries.dispatcher import Receiver
from twofa.provider.operators.model import Operator

router = APIRouter()
NAV = Nav("Applications", "/apps")
Admin = require("admin")


@router.get("/apps", response_class=HTMLResponse)
def applications(request: Request, operator: SignedIn) -> HTMLResponse:
    found = services(request)
    receivers = found.deliveries.receivers()
    rows = [(app, receivers.get(app_target(app.id), Receiver("ok", 0))) for app in found.apps.all()]
    return render(request, "console/apps/list.html", rows=rows)


@router.get("/apps/new", response_class=HTMLResponse)
def new_application_page(request: Request, operator: Operator = Admin) -> HTMLResponse:
    return render(
        request,
        "console/apps/new.html",
        name="",
        callback_url="",
        sandbox_allowed=services(request).apps.allow_sandbox,
    )


@router.post("/apps/new", response_class=HTMLResponse)
def new_application(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    callback_url: Annotated[str, Form(max_length=2000)] = "",
    sandbox: Annotated[str, Form(max_length=10)] = "",
    operator: Operator = Admin,
) -> HTMLResponse:
    found = services(request)
    created = found.apps.create(
        name,
        callback_url=callback_url.strip() or None,
        sandbox=sandbox == "on",
        actor=operator.actor,
    )
    account = found.verify.accounts.issue_account(created.app.id)
    return render(
        request,
        "console/apps/key.html",
        app=created.app,
        api_key=created.api_key,
        account_sid=account.sid,
        auth_token=account.secret,
        rotated=False,
    )


@router.get("/apps/{app_id}/rotate", response_class=HTMLResponse)
def rotate_page(
    request: Request, app_id: int, operator: RecentFactor, _: Operator = Admin
) -> HTMLResponse:
    app = services(request).apps.get(app_id)
    return render(
        request,
        "console/confirm.html",
        title=f"Rotate the API key of {app.name}?",
        message=(
            "A new key is made and shown once. The current key stops working at once: "
            "the application must be given the new one."
        ),
        action=f"/apps/{app_id}/rotate",
        button="Rotate key",
        cancel=f"/apps/{app_id}",
    )


@router.post("/apps/{app_id}/rotate", response_class=HTMLResponse)
def rotate(request: Request, app_id: int, operator: RecentFactor, _: Operator = Admin) -> Response:
    created = services(request).apps.rotate_key(app_id, actor=operator.actor)
    return render(
        request,
        "console/apps/key.html",
        app=created.app,
        api_key=created.api_key,
        account_sid=None,
        auth_token=None,
        rotated=True,
    )


@router.get("/apps/{app_id}/delete", response_class=HTMLResponse)
def delete_page(
    request: Request, app_id: int, operator: RecentFactor, _: Operator = Admin
) -> HTMLResponse:
    app = services(request).apps.get(app_id)
    return render(
        request,
        "console/confirm.html",
        title=f"Delete {app.name}?",
        message=(
            "The application, its users, their pending requests and queued callbacks are "
            "deleted. Its key stops working. This cannot be undone."
        ),
        action=f"/apps/{app_id}/delete",
        button="Delete application",
        cancel=f"/apps/{app_id}",
    )


@router.post("/apps/{app_id}/delete")
def delete(request: Request, app_id: int, operator: RecentFactor, _: Operator = Admin) -> Response:
    app = services(request).apps.get(app_id)
    services(request).apps.delete(app_id, actor=operator.actor)
    return redirect(request, "/apps", flash=f"Application {app.name} was deleted.")
