"""The second-factor pages, open only to a browser holding a pending login (``g.attempt``).

Push: ``/login/wait`` shows the waiting screen, ``/login/events`` streams status changes (SSE),
``/login/status`` is the polling fallback, ``/login/complete`` finishes an approved login.
Codes: ``/verify`` sends the first code once per attempt and checks codes; ``/resend`` sends
another by SMS or voice call after a cooldown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import (
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    session,
    stream_with_context,
    url_for,
)
from werkzeug.wrappers import Response

from twofa.client import ProviderError
from twofa.site.auth import bp
from twofa.site.auth.forms import ActionForm, ResendForm, VerifyForm
from twofa.site.auth.service import FINAL_STATUSES, Channel
from twofa.site.auth.session import PENDING, pending_required, start_session
from twofa.site.errors import SiteError, TooManyFailures, provider_message
from twofa.site.services import services
from twofa.site.streams import Refusal, StreamSlot

Page = str | Response | tuple[str, int]


@bp.get("/login/wait")
@pending_required()
def wait() -> Page:
    """The waiting screen of a push login (with the number to pick, if number matching)."""
    status = services().auth.approval_status(g.attempt)
    if status == "none":
        return redirect(url_for("auth.verify"))
    if status == "denied":
        return redirect(url_for("auth.verify"))
    return render_template(
        "auth/wait.html", attempt=g.attempt, status=status, form=ActionForm(), user=g.login_user
    )


@bp.get("/login/status")
@pending_required(api=True)
def status() -> Response:
    """Polling fallback: ``{"status": "pending"}``; ``approved``/``denied``/``expired``/``none``."""
    current = services().auth.approval_status(g.attempt, ask_provider=True)
    return jsonify(status=current, number=g.attempt.approval_number)


@bp.get("/login/events")
@pending_required(api=True)
def events() -> Response:
    """A Server-Sent Events stream of this login's push status.

    It sends the current status at once, then each change, and closes at the first final
    status or after ``site_stream_max_seconds`` (the browser's EventSource then reconnects), so a
    stream never holds a server thread for long.
    """
    svc = services()
    attempt = g.attempt
    slot = svc.streams.acquire(attempt.id)
    if not isinstance(slot, StreamSlot):
        return _no_stream(slot)
    uuid = attempt.approval_uuid
    deadline = time.monotonic() + svc.settings.site_stream_max_seconds
    keepalive = svc.settings.site_stream_keepalive_seconds

    def frame(state: str) -> str:
        return f"event: status\ndata: {json.dumps({'status': state})}\n\n"

    def stream() -> Iterator[str]:
        yield "retry: 2000\n\n"
        if uuid is None:
            yield frame("none")
            return
        with svc.live.watch(uuid) as watch:
            state = svc.auth.approval_status(attempt)
            yield frame(state)
            while state not in FINAL_STATUSES:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                # The callback's event, or the provider asked at a bounded interval (the SDK's
                # wait_for_decision), whichever comes first: a lost callback costs seconds.
                state = svc.auth.wait_for_decision(
                    attempt, timeout=min(keepalive, left), heard=watch.status
                )
                yield frame(state) if state in FINAL_STATUSES else ": keepalive\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    body = stream_with_context(stream())
    response = Response(body, mimetype="text/event-stream", headers=headers)
    response.call_on_close(slot.release)  # the server closes the response when the client leaves
    return response


def _no_stream(reason: Refusal) -> Response:
    """Refuse a stream: EventSource gives up on a non-200 answer and the page polls instead."""
    response = jsonify(status="poll", reason=reason, poll=url_for("auth.status"))
    response.status_code = 429 if reason == "attempt" else 503
    response.headers["Retry-After"] = "2"
    return response


@bp.post("/login/complete")
@pending_required()
def complete() -> Page:
    """Finish a login whose own push was approved: new cookie, then the account page."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("auth.wait"))
    try:
        token = services().auth.complete_push(g.attempt)
    except SiteError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.wait"))
    return _logged_in(token)


@bp.post("/login/push")
@pending_required()
def push_again() -> Page:
    """Send a new push after the previous one expired."""
    if ActionForm().validate_on_submit():
        try:
            if services().auth.approval_status(g.attempt) in {"expired", "none"}:
                services().auth.push(g.attempt, g.login_user)
        except ProviderError as exc:
            flash(provider_message(exc), "error")
            return redirect(url_for("auth.verify"))
    return redirect(url_for("auth.wait"))


@bp.route("/verify", methods=["GET", "POST"])
@pending_required()
def verify() -> Page:
    """Enter a code. The first visit of an attempt sends an SMS; reloads do not send again."""
    auth = services().auth
    form = VerifyForm()
    if form.validate_on_submit():
        try:
            token = auth.verify_code(g.attempt, g.login_user, (form.code.data or "").strip())
        except TooManyFailures as exc:
            session.pop(PENDING, None)  # the attempt is over: back to a signed-out browser
            flash(exc.message, "error")
            return redirect(url_for("auth.login"))
        except SiteError as exc:
            form.code.errors.append(exc.message)
        except ProviderError as exc:
            form.code.errors.append(provider_message(exc))
        else:
            return _logged_in(token)
        return _verify_page(form), 422
    if form.is_submitted():
        return _verify_page(form), 422
    try:
        auth.send_first_code(g.attempt, g.login_user)
    except ProviderError as exc:
        flash(provider_message(exc), "error")
    return _verify_page(form)


@bp.post("/resend")
@pending_required()
def resend() -> Page:
    """Send another code by SMS or voice call, at most once per cooldown."""
    form = ResendForm()
    if form.validate_on_submit():
        via: Channel = "call" if form.via.data == "call" else "sms"
        try:
            sent = services().auth.send_code(g.attempt, g.login_user, channel=via)
        except SiteError as exc:
            flash(exc.message, "error")
        except ProviderError as exc:
            flash(provider_message(exc), "error")
        else:
            how = "We are calling" if sent.channel == "call" else "We sent a new code to"
            flash(f"{how} {sent.destination}.", "success")
    return redirect(url_for("auth.verify"))


def _verify_page(form: VerifyForm) -> str:
    auth = services().auth
    attempt = auth.attempts.by_id(g.attempt.id) or g.attempt
    return render_template(
        "auth/verify.html",
        form=form,
        attempt=attempt,
        approval=auth.approval_status(attempt),
        cooldown=auth.cooldown_remaining(attempt),
        resend_form=ResendForm(),
        action_form=ActionForm(),
    )


def _logged_in(token: str) -> Response:
    target = g.attempt.next_url or url_for("account.account")
    start_session(token)
    flash("You are signed in.", "success")
    return redirect(target)
