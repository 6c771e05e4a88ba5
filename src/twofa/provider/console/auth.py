"""Who is signed in, what they may do, and the cookies that carry it.

Three cookies, all ``__Host-`` (Secure, Path=/, no Domain), HttpOnly and SameSite=Strict:

- ``__Host-twofa_console``: the session token (its SHA-256 is the ``operator_sessions`` row).
- ``__Host-twofa_console_pending``: between password and second factor, a signed token naming
  the operator, valid five minutes. It opens nothing but the second-factor step.
- ``__Host-twofa_console_pre``: a random value that the CSRF token of a signed-out page (the
  sign-in forms) is bound to. Once signed in, the CSRF token is bound to the session instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from twofa.crypto import derive
from twofa.provider.console.templating import PREFIX, services, settings
from twofa.provider.operators.model import Operator, Session

SESSION_COOKIE = "__Host-twofa_console"
PENDING_COOKIE = "__Host-twofa_console_pending"
PRE_COOKIE = "__Host-twofa_console_pre"
PENDING_SECONDS = 300
_UNSET = object()


class SignInRequired(Exception):
    """No live session: GETs go to the sign-in page, other requests are refused (401)."""


class ReauthRequired(Exception):
    """The action needs a recent second factor; ``next`` is where to come back to."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Forbidden(Exception):
    """Refused: the role does not allow it, or the Origin or CSRF check failed (403)."""

    def __init__(self, message: str = "You are not allowed to do that.") -> None:
        super().__init__(message)
        self.message = message


# Sessions --------------------------------------------------------------------------------------


def current_session(request: Request) -> Session | None:
    """The live session of this request's cookie (looked up once per request)."""
    cached: Session | object | None = getattr(request.state, "console_session", _UNSET)
    if cached is not _UNSET:
        assert cached is None or isinstance(cached, Session)
        return cached
    session = services(request).console_sessions.load(request.cookies.get(SESSION_COOKIE))
    request.state.console_session = session
    return session


def current_operator(request: Request) -> Operator | None:
    session = current_session(request)
    return session.operator if session else None


def signed_in(request: Request) -> Operator:
    """The signed-in operator; ``SignInRequired`` without a live session."""
    operator = current_operator(request)
    if operator is None:
        raise SignInRequired()
    return operator


SignedIn = Annotated[Operator, Depends(signed_in)]


def require(*roles: str) -> Any:
    """A dependency: the signed-in operator if their role is one of ``roles``, else 403."""

    def allowed(operator: SignedIn) -> Operator:
        if operator.role not in roles:
            raise Forbidden(f"Your role ({operator.role}) does not allow this.")
        return operator

    return Depends(allowed)


def recent_factor(request: Request, operator: SignedIn) -> Operator:
    """The operator, if they gave a second factor within ``console_reauth_seconds``; else they
    are sent to re-authenticate and come back to a GET of this path (so a confirmation page
    and the POST it makes share one path)."""
    session = current_session(request)
    assert session is not None
    if not services(request).console_sessions.recently_verified(session):
        raise ReauthRequired(safe_next(_path_of(request)))
    return operator


RecentFactor = Annotated[Operator, Depends(recent_factor)]


def _path_of(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


def safe_next(value: str | None) -> str:
    """Only a path inside the console: never another site (an open redirect)."""
    if not value or not value.startswith(PREFIX + "/") or "//" in value:
        return PREFIX + "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value:
        return PREFIX + "/"
    return value


def login_url(next_path: str) -> str:
    return f"{PREFIX}/login?next={quote(safe_next(next_path), safe='/')}"


def start_session(response: Response, token: str) -> None:
    _set(response, SESSION_COOKIE, token, max_age=None)
    response.delete_cookie(PENDING_COOKIE, path="/", secure=True, httponly=True)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True)


def _set(response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )


# Between password and second factor ------------------------------------------------------------


def _pending_signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(derive(settings(request).key, "twofa:console-pending").hex())


def issue_pending(request: Request, response: Response, operator: Operator) -> None:
    token = _pending_signer(request).dumps({"op": operator.id, "n": secrets.token_hex(8)})
    _set(response, PENDING_COOKIE, token, max_age=PENDING_SECONDS)


def pending_operator(request: Request) -> Operator | None:
    """The operator who passed the password step in this browser in the last five minutes."""
    value = request.cookies.get(PENDING_COOKIE)
    if not value:
        return None
    try:
        data = _pending_signer(request).loads(value, max_age=PENDING_SECONDS)
        operator_id = int(data["op"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    operator = services(request).operators.get(operator_id)
    if operator is None or operator.disabled_at is not None:
        return None
    return operator


# CSRF and Origin -------------------------------------------------------------------------------


def _csrf_key(request: Request) -> bytes:
    return derive(settings(request).key, "twofa:console-csrf")


def _binding(request: Request, *, create: bool) -> str | None:
    """What the CSRF token is bound to: the session token, else the pre-session cookie."""
    if current_session(request) is not None:
        return "s:" + request.cookies[SESSION_COOKIE]
    pre = request.cookies.get(PRE_COOKIE) or getattr(request.state, "console_new_pre", None)
    if pre is None and create:
        pre = secrets.token_urlsafe(24)
        request.state.console_new_pre = pre
    return None if pre is None else "p:" + pre


def csrf_token(request: Request) -> str:
    binding = _binding(request, create=True)
    assert binding is not None
    return hmac.new(_csrf_key(request), binding.encode(), hashlib.sha256).hexdigest()


def csrf_valid(request: Request, submitted: str | None) -> bool:
    binding = _binding(request, create=False)
    if binding is None or not submitted:
        return False
    expected = hmac.new(_csrf_key(request), binding.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), submitted.encode()[:200])


def attach_cookies(request: Request, response: Response) -> None:
    """Set the pre-session cookie a rendered page's CSRF token was bound to, if new."""
    pre = getattr(request.state, "console_new_pre", None)
    if pre is not None and PRE_COOKIE not in request.cookies:
        _set(response, PRE_COOKIE, pre, max_age=None)


def expected_origin(request: Request) -> str:
    """The console's origin: the setting, else the public URL's, else this request's own."""
    configured = settings(request).console_origin or settings(request).public_url
    if configured:
        parts = urlsplit(configured)
        return f"{parts.scheme}://{parts.netloc}".lower()
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}".lower()


def rp_id(request: Request) -> str:
    """The WebAuthn relying party id: the setting, else the console origin's host name."""
    return settings(request).console_rp_id or (urlsplit(expected_origin(request)).hostname or "")


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
