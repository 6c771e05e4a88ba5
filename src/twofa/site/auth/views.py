"""Sign-up, password login and logout. Routes translate; :class:`AuthService` decides."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from twofa.client import ProviderError
from twofa.site.auth import bp
from twofa.site.auth.forms import ActionForm, LoginForm, SignUpForm
from twofa.site.auth.service import LoginStart
from twofa.site.auth.session import (
    begin_pending,
    current_user,
    pending_token,
    safe_next,
    session_token,
)
from twofa.site.errors import BadCredentials, SignUpFailed, provider_message
from twofa.site.services import services
from twofa.site.store import User

Page = str | Response | tuple[str, int]


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up() -> Page:
    """Create an account, registered with the provider, then confirm the phone with a code."""
    if current_user() is not None:
        return redirect(url_for("account.account"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = services().auth.sign_up(
                full_name=form.full_name.data or "",
                email=form.email.data or "",
                password=form.password.data or "",
                region=form.region.data or "",
                phone=form.phone.data or "",
            )
        except SignUpFailed as exc:
            for name, message in exc.fields.items():
                getattr(form, name).errors.append(message)
            if not exc.fields:
                flash(exc.message, "error")
        except ProviderError as exc:
            flash(provider_message(exc) + " Your account was not created.", "error")
        else:
            flash("Your account is ready. Confirm your phone with the code we sent.", "success")
            return _after_password(user, next_url=None)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/sign_up.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> Page:
    """Check the password; on success the browser holds a pending login, not a user id."""
    if current_user() is not None:
        return redirect(url_for("account.account"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if form.validate_on_submit():
        try:
            user = services().auth.authenticate(
                email=form.email.data or "", password=form.password.data or ""
            )
        except BadCredentials as exc:
            form.form_errors.append(exc.message)
        else:
            return _after_password(user, next_url=safe_next(form.next.data))
        return render_template("auth/login.html", form=form), 401
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


def _after_password(user: User, *, next_url: str | None) -> Page:
    try:
        start: LoginStart = services().auth.start_login(
            user,
            ip=request.remote_addr,
            user_agent=request.user_agent.string,
            next_url=next_url,
        )
    except ProviderError as exc:
        flash(provider_message(exc), "error")
        return redirect(url_for("auth.login"))
    begin_pending(start.token)
    if start.notice:
        flash(start.notice, "error")
    return redirect(url_for("auth.wait" if start.next_step == "wait" else "auth.verify"))


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Page:
    """POST logs out (or abandons a pending login); GET asks first, so a link cannot force it."""
    form = ActionForm()
    if request.method == "POST":
        if form.validate_on_submit():
            auth = services().auth
            auth.logout(session_token())
            auth.cancel(pending_token())
            session.clear()
            flash("You are signed out.", "success")
        return redirect(url_for("index"))
    if current_user() is None and pending_token() is None:
        return redirect(url_for("index"))
    return render_template("auth/logout.html", form=form)
