"""Sign-up pages: the form, the phone code, and the password hint.

``/sign-up`` texts a code to the phone without creating anything at the provider;
``/sign-up/confirm`` checks it, creates the account and signs the browser in.
:mod:`twofa.site.auth.signup` holds the rules.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from twofa.client import ProviderError
from twofa.site.auth import bp
from twofa.site.auth.forms import ResendForm, SignUpForm, VerifyForm
from twofa.site.auth.session import SIGNUP, current_user, start_session
from twofa.site.auth.signup import PendingSignUp
from twofa.site.errors import (
    AttemptGone,
    SignUpFailed,
    SiteError,
    TooManyFailures,
    provider_message,
)
from twofa.site.password_policy import check_password
from twofa.site.services import services

Page = str | Response | tuple[str, int]


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up() -> Page:
    """The form; a valid one texts a code to the phone and leads to ``/sign-up/confirm``."""
    if current_user() is not None:
        return redirect(url_for("account.account"))
    signup = services().signup
    form = SignUpForm()
    shortest = services().settings.site_password_min_length
    form.password.description = (
        f"At least {shortest} characters. Long phrases are best; common passwords are refused."
    )
    if form.validate_on_submit():
        try:
            token, _ = signup.start(
                full_name=form.full_name.data or "",
                email=form.email.data or "",
                password=form.password.data or "",
                region=form.region.data or "",
                phone=form.phone.data or "",
                ip=request.remote_addr,
                challenge=form.challenge.data,
                solution=form.solution.data,
            )
        except SignUpFailed as exc:
            for name, message in exc.fields.items():
                getattr(form, name).errors.append(message)
            if not exc.fields:
                form.form_errors.append(exc.message)
        except ProviderError as exc:
            form.form_errors.append(provider_message(exc) + " Your account was not created.")
        else:
            session.pop(SIGNUP, None)
            session[SIGNUP] = token
            return redirect(url_for("auth.confirm_phone"))
    status = 422 if form.is_submitted() else 200
    challenge = signup.challenge_for(request.remote_addr)
    return render_template("auth/sign_up.html", form=form, challenge=challenge), status


@bp.route("/sign-up/confirm", methods=["GET", "POST"])
def confirm_phone() -> Page:
    """Enter the code texted at sign-up; the right one creates the account and signs in."""
    signup = services().signup
    try:
        pending = signup.resume(session.get(SIGNUP))
    except AttemptGone as exc:
        session.pop(SIGNUP, None)
        flash(exc.message, "error")
        return redirect(url_for("auth.sign_up"))
    form = VerifyForm()
    if form.validate_on_submit():
        try:
            user = signup.confirm(pending, (form.code.data or "").strip())
        except (TooManyFailures, AttemptGone) as exc:
            session.pop(SIGNUP, None)
            flash(exc.message, "error")
            return redirect(url_for("auth.sign_up"))
        except SignUpFailed as exc:
            session.pop(SIGNUP, None)
            flash(next(iter(exc.fields.values()), exc.message), "error")
            return redirect(url_for("auth.sign_up"))
        except SiteError as exc:
            form.code.errors.append(exc.message)
        except ProviderError as exc:
            form.code.errors.append(provider_message(exc))
        else:
            token = services().auth.open_session(
                user, ip=request.remote_addr, user_agent=request.user_agent.string, method="sms"
            )
            start_session(token)
            flash("Your phone is confirmed and your account is ready.", "success")
            return redirect(url_for("account.account"))
        return _confirm_page(form, pending), 422
    return _confirm_page(form, pending), 422 if form.is_submitted() else 200


@bp.post("/sign-up/resend")
def resend_signup_code() -> Response:
    """Another sign-up code by SMS or voice call, after the cooldown."""
    form = ResendForm()
    signup = services().signup
    try:
        pending = signup.resume(session.get(SIGNUP))
    except AttemptGone:
        return redirect(url_for("auth.sign_up"))
    if form.validate_on_submit():
        via = "call" if form.via.data == "call" else "sms"
        try:
            signup.resend(pending, via=via)
        except SiteError as exc:
            flash(exc.message, "error")
        except ProviderError as exc:
            flash(provider_message(exc), "error")
        else:
            how = "We are calling" if via == "call" else "We sent a new code to"
            flash(f"{how} {pending.destination}.", "success")
    return redirect(url_for("auth.confirm_phone"))


@bp.post("/sign-up/password")
def password_hint() -> Response:
    """The strength hint under the password field (CSRF header required, like every POST).

    Example request ``{"password": "password12", "email": "a@example.com", "full_name": "A"}``;
    response ``{"ok": false, "score": 1, "message": "This is a very common password.",
    "suggestions": [...]}``. The same check decides at submission.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("password"), str):
        return jsonify(ok=False, error="password is required"), 400  # type: ignore[return-value]
    inputs = tuple(str(body.get(k) or "")[:254] for k in ("full_name", "email"))
    strength = check_password(
        body["password"][:200],
        min_length=services().settings.site_password_min_length,
        user_inputs=inputs,
    )
    return jsonify(
        ok=strength.ok,
        score=strength.score,
        message=strength.message,
        suggestions=list(strength.suggestions),
    )


def _confirm_page(form: VerifyForm, pending: PendingSignUp) -> str:
    return render_template(
        "auth/confirm_phone.html",
        form=form,
        pending=pending,
        cooldown=services().signup.cooldown_remaining(pending),
        resend_form=ResendForm(),
    )
