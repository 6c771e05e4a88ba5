"""Password login and logout. Routes translate; :class:`AuthService` decides."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from twofa.client import ProviderError
from twofa.site.auth import bp
from twofa.site.auth.forms import ActionForm, LoginForm
from twofa.site.auth.service import LoginStart
from twofa.site.auth.session import (
    SIGNUP,
    begin_pending,
    current_user,
    pending_token,
    safe_next,
    session_token,
)
from twofa.site.errors import BadCredentials, ChallengeNeeded, Throttled, provider_message
from twofa.site.services import services
from twofa.site.store import User

Page = str | Response | tuple[str, int]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Page:
    """Check the password; on success the browser holds a pending login, not a user id."""
    if current_user() is not None:
        return redirect(url_for("account.account"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if form.validate_on_submit():
        auth = services().auth
        try:
            user = auth.authenticate(
                email=form.email.data or "",
                password=form.password.data or "",
                ip=request.remote_addr,
                challenge=form.challenge.data,
                solution=form.solution.data,
            )
        except Throttled as exc:
            form.form_errors.append(exc.message)
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(exc.seconds)
            return response
        except ChallengeNeeded as exc:
            form.form_errors.append(exc.message)
            challenge = auth.login_challenge()
            page = render_template("auth/login.html", form=form, challenge=challenge)
            return page, 422
        except BadCredentials as exc:
            form.form_errors.append(exc.message)
        else:
            return after_password(user, next_url=safe_next(form.next.data))
        return render_template("auth/login.html", form=form), 401
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


def after_password(user: User, *, next_url: str | None) -> Page:
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
            services().signup.cancel(session.get(SIGNUP))
            session.clear()
            flash("You are signed out.", "success")
        return redirect(url_for("index"))
    if current_user() is None and pending_token() is None:
        return redirect(url_for("index"))
    return render_template("auth/logout.html", form=form)
