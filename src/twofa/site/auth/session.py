"""What the browser's cookie may hold, and the guards built on it.

The signed Flask cookie carries one of two random tokens, each checked against the database:

* ``pending`` — a login attempt that passed the password step. It opens the second-factor pages
  and nothing else; it is not a user id.
* ``sid`` — a server-side session, created only when a login completes.

Moving from one to the other clears the cookie and issues a new one, so a copy of an earlier
cookie is useless: its attempt is closed, and a logged-out session is revoked in the database.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import flash, g, jsonify, redirect, request, session, url_for

from twofa.site.errors import AttemptGone
from twofa.site.services import services

PENDING = "pending"
SID = "sid"
SIGNUP = "signup"  # a sign-up waiting for its phone code (no account exists yet)

F = TypeVar("F", bound=Callable[..., Any])


def _reset() -> None:
    """Drop all session state (and the CSRF token) but keep messages not yet shown."""
    flashes = session.get("_flashes")
    session.clear()
    if flashes:
        session["_flashes"] = flashes


def begin_pending(token: str) -> None:
    """Hold a new pending login (dropping any previous state and CSRF token)."""
    _reset()
    session[PENDING] = token


def start_session(token: str) -> None:
    """Log the browser in with a fresh cookie."""
    _reset()
    session.permanent = True
    session[SID] = token


def pending_token() -> str | None:
    value = session.get(PENDING)
    return value if isinstance(value, str) else None


def session_token() -> str | None:
    value = session.get(SID)
    return value if isinstance(value, str) else None


def current_user() -> Any:
    """The logged-in user, or None (a pending login is not logged in)."""
    if "user" not in g:
        g.user = services().auth.session_user(session_token())
    return g.user


def login_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            session.pop(SID, None)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def pending_required(*, api: bool = False) -> Callable[[F], F]:
    """Only for a browser holding an open login attempt; puts it in ``g.attempt``/``g.login_user``.

    Pages redirect to the login form; ``api`` endpoints answer JSON 401 instead.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                g.attempt, g.login_user = services().auth.resume(pending_token())
            except AttemptGone as exc:
                session.pop(PENDING, None)
                if api:
                    signed_in = current_user() is not None
                    status = "signed_in" if signed_in else "signed_out"
                    target = url_for("account.account" if signed_in else "auth.login")
                    return jsonify(status=status, next=target), 401
                if pending_token() is None and current_user() is not None:
                    return redirect(url_for("account.account"))
                flash(exc.message, "error")
                return redirect(url_for("auth.login"))
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
