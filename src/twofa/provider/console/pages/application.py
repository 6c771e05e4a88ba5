"""One application: its callback (test send, re-enable, retry), features, OneTouch defaults,
destination countries and fraud-guard blocks."""

from __future__ import annotations

import functools
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from twofa.provider.console.auth import SignedIn, require
from twofa.provider.console.templating import redirect, render, services
from twofa.provider.deliveries.authy import app_target
from twofa.provider.deliveries.dispatcher import Receiver
from twofa.provider.operators.model import Operator

router = APIRouter()
NAV = None
Admin = require("admin")
Helpdesk = require("admin", "helpdesk")
FEATURES = (
    ("sms_enabled", "SMS codes"),
    ("calls_enabled", "Voice calls"),
    ("onetouch_enabled", "OneTouch push requests"),
    ("generic_tokens_enabled", "Generic authenticator apps (QR codes)"),
    ("multi_device", "Further devices join with an existing device's approval"),
    ("number_choices", "Number matching offers three numbers to tap"),
    ("lenient_verify", "Lenient verify (accept codes of unconfirmed users, as old Authy did)"),
)
Url = Annotated[str, Form(max_length=2000)]


@router.get("/apps/{app_id}", response_class=HTMLResponse)
def application(request: Request, app_id: int, operator: SignedIn) -> HTMLResponse:
    found = services(request)
    app = found.apps.get(app_id)
    receiver = found.deliveries.receivers().get(app_target(app_id), Receiver("ok", 0))
    blocks = [b for b in found.fraud.blocks() if b.app_id == app_id]
    return render(
        request,
        "console/apps/detail.html",
        app=app,
        receiver=receiver,
        features=[(name, label, getattr(app, name)) for name, label in FEATURES],
        blocks=blocks,
        deployment_countries=found.settings.fraud_allowed_countries,
        default_ttl=found.settings.onetouch_default_ttl,
    )


@router.post("/apps/{app_id}/callback")
def set_callback(
    request: Request, app_id: int, callback_url: Url = "", operator: Operator = Admin
) -> Response:
    services(request).apps.get(app_id)  # 404 before anything is written
    services(request).apps.set_callback(app_id, callback_url.strip() or None, actor=operator.actor)
    return redirect(request, f"/apps/{app_id}", flash="The callback URL was saved.")


@router.post("/apps/{app_id}/callback/test")
def test_callback(request: Request, app_id: int, operator: Operator = Admin) -> Response:
    found = services(request)
    app = found.apps.get(app_id)
    if not app.callback_url:
        return redirect(request, f"/apps/{app_id}", flash="Set a callback URL first.")
    send = functools.partial(
        found.deliveries.test_send,
        app_id=app.id,
        url=app.callback_url,
        api_key_salt=app.api_key_salt,
    )
    outcome = anyio.from_thread.run(send)
    found.audit.record(
        "app.callback_tested",
        app_id=app_id,
        subject=f"app:{app_id}",
        data={"result": outcome.result, "error": outcome.error},
        actor=operator.actor,
    )
    if outcome.result == "delivered":
        message = "Test callback delivered: the receiver answered with a 2xx status."
    else:
        message = f"Test callback not delivered: {outcome.error or outcome.result}."
    return redirect(request, f"/apps/{app_id}", flash=message)


@router.post("/apps/{app_id}/callback/resume")
def resume_callback(request: Request, app_id: int, operator: Operator = Helpdesk) -> Response:
    found = services(request)
    found.deliveries.resume(app_target(app_id), actor=operator.actor)
    found.bus.publish("deliveries", {"type": "enqueued"})
    return redirect(request, f"/apps/{app_id}", flash="Callbacks re-enabled.")


@router.post("/apps/{app_id}/callback/retry")
def retry_callbacks(request: Request, app_id: int, operator: Operator = Helpdesk) -> Response:
    found = services(request)
    count = found.deliveries.requeue(app_target(app_id), actor=operator.actor)
    found.bus.publish("deliveries", {"type": "enqueued"})
    return redirect(request, f"/apps/{app_id}", flash=f"{count} callback(s) queued again.")


@router.post("/apps/{app_id}/features")
async def set_features(request: Request, app_id: int, operator: Operator = Admin) -> Response:
    await anyio.to_thread.run_sync(services(request).apps.get, app_id)  # 404 first
    form = await request.form()
    options = {name: form.get(name) == "on" for name, _ in FEATURES}
    await anyio.to_thread.run_sync(
        lambda: services(request).apps.set_options(app_id, actor=operator.actor, **options)
    )
    return redirect(request, f"/apps/{app_id}", flash="Features saved.")


@router.post("/apps/{app_id}/defaults")
def set_defaults(
    request: Request,
    app_id: int,
    number_matching: Annotated[str, Form(max_length=10)] = "",
    onetouch_ttl: Annotated[str, Form(max_length=20)] = "",
    operator: Operator = Admin,
) -> Response:
    apps = services(request).apps
    apps.get(app_id)  # 404 before anything is written
    text = onetouch_ttl.strip()
    ttl = int(text) if text.isascii() and text.isdigit() else None
    if text and ttl is None:
        return redirect(request, f"/apps/{app_id}", flash="Time to expire must be whole seconds.")
    apps.set_options(app_id, number_matching=number_matching == "on", actor=operator.actor)
    apps.set_onetouch_ttl(app_id, ttl, actor=operator.actor)
    return redirect(request, f"/apps/{app_id}", flash="OneTouch defaults saved.")


@router.post("/apps/{app_id}/countries")
def set_countries(
    request: Request,
    app_id: int,
    countries: Annotated[str, Form(max_length=1000)] = "",
    operator: Operator = Admin,
) -> Response:
    services(request).fraud.set_countries(app_id, countries or None, actor=operator.actor)
    return redirect(request, f"/apps/{app_id}", flash="Destination countries saved.")


@router.post("/apps/{app_id}/blocks/{block_id}/lift")
def lift_block(
    request: Request, app_id: int, block_id: int, operator: Operator = Admin
) -> Response:
    block = services(request).fraud.unblock(block_id, actor=operator.actor)
    message = "Block lifted." if block is not None else "That block was lifted already."
    return redirect(request, f"/apps/{app_id}", flash=message)
