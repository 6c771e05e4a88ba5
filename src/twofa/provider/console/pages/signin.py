"""Sign-in (password, then TOTP or a security key), sign-out, and re-authentication.

After the password the browser holds only a signed, five-minute token (``auth.issue_pending``);
the session starts, with a fresh id, once the second factor is given. One message answers
every failure, whichever step or name it was.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from twofa.provider.console import auth
from twofa.provider.console.auth import SignedIn
from twofa.provider.console.templating import PREFIX, render, services
from twofa.provider.operators.model import Operator, SignInFailed

router = APIRouter()
NAV = None
FAILED = "The name, password or code is not right."

Next = Annotated[str, Form(max_length=2000)]
Text = Annotated[str, Form(max_length=200)]


def _start(request: Request, operator: Operator, factor: str) -> str:
    """Start the session (a fresh token, never one the browser brought); the cookie's token."""
    services(request).operators.signed_in(operator)
    return services(request).console_sessions.start(
        operator, factor=factor, address=auth.address(request)
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = PREFIX + "/") -> Response:
    if auth.current_operator(request) is not None:
        return RedirectResponse(auth.safe_next(next), status_code=303)
    return render(request, "console/login.html", next=auth.safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, name: Text, password: Text, next: Next = PREFIX + "/") -> Response:
    target = auth.safe_next(next)
    try:
        operator = services(request).operators.check_password(
            name, password, address=auth.address(request)
        )
    except SignInFailed:
        return render(request, "console/login.html", status=400, next=target, error=FAILED)
    second = f"{PREFIX}/login/second-factor?next={quote(target, safe='/')}"
    response = RedirectResponse(second, status_code=303)
    auth.issue_pending(request, response, operator)
    return response


def _factors(request: Request, operator: Operator) -> dict[str, Any]:
    return {
        "has_totp": operator.has_totp,
        "has_keys": bool(services(request).passkeys.credentials(operator.id)),
    }


@router.get("/login/second-factor", response_class=HTMLResponse)
def second_factor_page(request: Request, next: str = PREFIX + "/") -> Response:
    operator = auth.pending_operator(request)
    if operator is None:
        return RedirectResponse(auth.login_url(next), status_code=303)
    return render(
        request,
        "console/second_factor.html",
        next=auth.safe_next(next),
        error=None,
        mode="login",
        **_factors(request, operator),
    )


@router.post("/login/totp", response_class=HTMLResponse)
def login_totp(request: Request, code: Text, next: Next = PREFIX + "/") -> Response:
    target = auth.safe_next(next)
    operator = auth.pending_operator(request)
    if operator is None:
        return RedirectResponse(auth.login_url(target), status_code=303)
    try:
        services(request).operators.check_totp(operator, code, address=auth.address(request))
    except SignInFailed:
        return render(
            request,
            "console/second_factor.html",
            status=400,
            next=target,
            error=FAILED,
            mode="login",
            **_factors(request, operator),
        )
    token = _start(request, operator, "totp")
    response = RedirectResponse(target, status_code=303)
    auth.start_session(response, token)
    return response


@router.post("/login/webauthn/options")
def login_key_options(request: Request) -> Response:
    operator = auth.pending_operator(request)
    if operator is None:
        return JSONResponse({"error": FAILED}, status_code=401)
    try:
        options = services(request).passkeys.authentication_options(
            operator, purpose="sign_in", rp_id=auth.rp_id(request)
        )
    except SignInFailed:
        return JSONResponse({"error": FAILED}, status_code=400)
    return Response(options, media_type="application/json")


def _credential(payload: dict[str, Any]) -> str:
    credential = payload.get("credential")
    return json.dumps(credential) if isinstance(credential, dict) else ""


@router.post("/login/webauthn")
def login_key(request: Request, payload: Annotated[dict[str, Any], Body()]) -> Response:
    operator = auth.pending_operator(request)
    target = auth.safe_next(str(payload.get("next") or ""))
    if operator is None:
        return JSONResponse({"error": FAILED}, status_code=401)
    try:
        services(request).passkeys.authenticate(
            operator,
            _credential(payload),
            purpose="sign_in",
            rp_id=auth.rp_id(request),
            origin=auth.expected_origin(request),
        )
    except SignInFailed:
        return JSONResponse({"error": FAILED}, status_code=400)
    token = _start(request, operator, "webauthn")
    response = JSONResponse({"redirect": target})
    auth.start_session(response, token)
    return response


@router.post("/logout")
def logout(request: Request, operator: SignedIn) -> Response:
    session = auth.current_session(request)
    if session is not None:
        services(request).console_sessions.end(session)
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    auth.end_session(response)
    return response


# Re-authentication -----------------------------------------------------------------------------


@router.get("/reauth", response_class=HTMLResponse)
def reauth_page(request: Request, operator: SignedIn, next: str = PREFIX + "/") -> Response:
    return render(
        request,
        "console/second_factor.html",
        next=auth.safe_next(next),
        error=None,
        mode="reauth",
        **_factors(request, operator),
    )


@router.post("/reauth/totp", response_class=HTMLResponse)
def reauth_totp(
    request: Request, operator: SignedIn, code: Text, next: Next = PREFIX + "/"
) -> Response:
    target = auth.safe_next(next)
    try:
        services(request).operators.check_totp(operator, code, address=auth.address(request))
    except SignInFailed:
        return render(
            request,
            "console/second_factor.html",
            status=400,
            next=target,
            error="That code is not right.",
            mode="reauth",
            **_factors(request, operator),
        )
    session = auth.current_session(request)
    assert session is not None
    services(request).console_sessions.reverified(session, factor="totp")
    return RedirectResponse(target, status_code=303)


@router.post("/reauth/webauthn/options")
def reauth_key_options(request: Request, operator: SignedIn) -> Response:
    try:
        options = services(request).passkeys.authentication_options(
            operator, purpose="reauth", rp_id=auth.rp_id(request)
        )
    except SignInFailed:
        return JSONResponse({"error": "No security key is registered."}, status_code=400)
    return Response(options, media_type="application/json")


@router.post("/reauth/webauthn")
def reauth_key(
    request: Request, operator: SignedIn, payload: Annotated[dict[str, Any], Body()]
) -> Response:
    target = auth.safe_next(str(payload.get("next") or ""))
    try:
        services(request).passkeys.authenticate(
            operator,
            _credential(payload),
            purpose="reauth",
            rp_id=auth.rp_id(request),
            origin=auth.expected_origin(request),
        )
    except SignInFailed:
        return JSONResponse({"error": "The security key was not accepted."}, status_code=400)
    session = auth.current_session(request)
    assert session is not None
    services(request).console_sessions.reverified(session, factor="webauthn")
    return JSONResponse({"redirect": target})
