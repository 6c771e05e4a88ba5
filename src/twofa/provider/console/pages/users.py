"""Users: search any application's users by Authy id, phone or e-mail; see one with their
devices, latest codes and requests; unlock their wrong-code count, revoke a device, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from twofa.errors import NotFound
from twofa.provider.console import auth
from twofa.provider.console.auth import RecentFactor, SignedIn, require
from twofa.provider.console.templating import Nav, redirect, render, services
from twofa.provider.operators.model import Operator

router = APIRouter()
NAV = Nav("Users", "/users")
Admin = require("admin")
Helpdesk = require("admin", "helpdesk")


@router.get("/users", response_class=HTMLResponse)
def search(request: Request, operator: SignedIn, q: str = "") -> HTMLResponse:
    query = q.strip()[:320]
    found = services(request).users.search(query) if query else []
    return render(request, "console/users/search.html", q=query, found=found)


@router.get("/users/{app_id}/{user_id}", response_class=HTMLResponse)
def user(request: Request, app_id: int, user_id: int, operator: SignedIn) -> HTMLResponse:
    found = services(request)
    app = found.apps.get(app_id)
    person, devices, codes, requests = found.users.activity(app_id, user_id)
    return render(
        request,
        "console/users/detail.html",
        app=app,
        user=person,
        devices=devices,
        codes=codes,
        requests=requests,
    )


@router.post("/users/{app_id}/{user_id}/unlock")
def unlock(request: Request, app_id: int, user_id: int, operator: Operator = Helpdesk) -> Response:
    found = services(request)
    person = found.users.get(app_id, user_id)
    found.codes.unlock(app_id, person.id, actor=operator.actor)
    return redirect(
        request,
        f"/users/{app_id}/{user_id}",
        flash="The wrong-code count was reset: the user may try again now.",
    )


@router.post("/users/{app_id}/{user_id}/devices/{uuid}/revoke")
def revoke_device(
    request: Request, app_id: int, user_id: int, uuid: str, operator: Operator = Helpdesk
) -> Response:
    found = services(request)
    _, devices, _, _ = found.users.activity(app_id, user_id, limit=1)
    if not any(d.uuid == uuid and d.state != "revoked" for d in devices):
        raise NotFound("This user's phone has no such device.")
    found.devices.operator_revoke(uuid, actor=operator.actor)
    return redirect(request, f"/users/{app_id}/{user_id}", flash="The device was revoked.")


@router.get("/users/{app_id}/{user_id}/delete", response_class=HTMLResponse)
def delete_page(
    request: Request, app_id: int, user_id: int, operator: RecentFactor, _: Operator = Admin
) -> HTMLResponse:
    person = services(request).users.get(app_id, user_id)
    return render(
        request,
        "console/confirm.html",
        title=f"Delete user {person.id}?",
        message=(
            f"User {person.id} ({person.email}) of this application is deleted with their "
            "codes and requests. Their Authy id stops working at once."
        ),
        action=f"/users/{app_id}/{user_id}/delete",
        button="Delete user",
        cancel=f"/users/{app_id}/{user_id}",
    )


@router.post("/users/{app_id}/{user_id}/delete")
def delete(
    request: Request, app_id: int, user_id: int, operator: RecentFactor, _: Operator = Admin
) -> Response:
    services(request).users.delete(app_id, user_id, actor=operator.actor)
    return redirect(request, "/users", flash=f"User {user_id} was deleted.")


@router.post("/deliveries/{delivery_id}/retry")
def retry_delivery(
    request: Request,
    delivery_id: int,
    next: Annotated[str, Form(max_length=2000)] = "",
    operator: Operator = Helpdesk,
) -> Response:
    """Send one delivery again now (the request timeline's button); then back to ``next``, a
    console path (``/requests/…`` or ``/console/requests/…``)."""
    found = services(request)
    found.deliveries.retry(delivery_id, actor=operator.actor)
    found.bus.publish("deliveries", {"type": "enqueued"})
    inside = next if next.startswith("/console/") else "/console" + next
    target = auth.safe_next(inside).removeprefix("/console") or "/"
    return redirect(request, target, flash=f"Delivery {delivery_id} queued again.")
