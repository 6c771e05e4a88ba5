"""``create_app(settings)``: the site's only factory. It builds stores and services, then routes."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, make_response, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.wrappers import Response

from twofa.client import Client
from twofa.events import EventBus, make_bus
from twofa.settings import Settings
from twofa.site import db as site_db
from twofa.site.account.service import AccountService
from twofa.site.auth.service import AuthService
from twofa.site.auth.signup import SignUpService, SignUpStore
from twofa.site.challenge import Challenges, SpentChallenges
from twofa.site.live import LiveStatus
from twofa.site.passwords import Passwords, PasswordsBusy
from twofa.site.services import EXTENSION, SiteServices
from twofa.site.store import AttemptStore, SessionStore, UserStore
from twofa.site.streams import StreamBudget
from twofa.site.throttle import FailureStore, LoginThrottle
from twofa.storage.database import Database
from twofa.storage.engine import make_engine

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    settings: Settings,
    *,
    provider: Client | None = None,
    bus: EventBus | None = None,
    clock: Callable[[], datetime] | None = None,
    migrate: bool = True,
) -> Flask:
    """Build the site for ``settings``.

    ``provider``, ``bus`` and ``clock`` default to what the settings describe (the provider at
    ``site_provider_url``, the configured event bus, the wall clock); tests pass their own.
    """
    app = Flask(__name__)
    _configure(app, settings)
    if migrate:
        site_db.upgrade(settings.site_db_url)
    database = Database(make_engine(settings.site_db_url))
    if provider is None:
        if settings.site_api_key is None or not settings.site_api_key.get_secret_value().strip():
            raise ValueError("TWOFA_SITE_API_KEY is required to run the site")
        provider = Client(
            settings.site_api_key.get_secret_value(),
            settings.site_provider_url,
            timeout=settings.site_provider_timeout,
        )
    live = LiveStatus(bus if bus is not None else make_bus(settings.redis_url))
    now = clock or (lambda: datetime.now(UTC))
    attempts = AttemptStore(database)
    users = UserStore(database)
    # A quarter of the threads may wait for a password hash; the rest stay free for pages.
    passwords = Passwords(
        memory_kib=settings.site_password_memory_kib, max_waiting=max(2, settings.site_threads // 4)
    )
    challenges = Challenges(
        key=hmac.new(settings.site_key, b"twofa-site-challenge", hashlib.sha256).digest(),
        spent=SpentChallenges(database),
        clock=now,
    )
    auth = AuthService(
        settings=settings,
        users=users,
        attempts=attempts,
        sessions=SessionStore(database),
        passwords=passwords,
        provider=provider,
        live=live,
        throttle=LoginThrottle(store=FailureStore(database), settings=settings, clock=now),
        challenges=challenges,
        clock=now,
    )
    signup = SignUpService(
        settings=settings,
        users=users,
        signups=SignUpStore(database),
        passwords=passwords,
        challenges=challenges,
        provider=provider,
        clock=now,
    )
    app.extensions[EXTENSION] = SiteServices(
        settings=settings,
        auth=auth,
        signup=signup,
        account=AccountService(attempts=attempts, provider=provider),
        live=live,
        provider=provider,
        streams=StreamBudget(settings.site_max_streams),
    )
    app.extensions["twofa_site_database"] = database
    _register(app)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    # The site's own secret, narrowed to this purpose; the site never holds the provider's key.
    app.secret_key = hmac.new(settings.site_key, b"twofa-site-session", hashlib.sha256).hexdigest()
    secure = settings.site_public_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_NAME="twofa_site",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.site_session_ttl),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session it belongs to
        WTF_CSRF_SSL_STRICT=secure,
        MAX_CONTENT_LENGTH=64 * 1024,
        TEMPLATES_AUTO_RELOAD=settings.env == "dev",
    )


def _register(app: Flask) -> None:
    from twofa.site import filters
    from twofa.site.account import bp as account_bp
    from twofa.site.auth import bp as auth_bp
    from twofa.site.auth import callback_bp
    from twofa.site.auth.forms import ActionForm
    from twofa.site.auth.session import current_user, pending_token

    filters.init_app(app)
    csrf = CSRFProtect(app)
    csrf.exempt(callback_bp)  # signed by the provider instead; it has no browser session
    app.register_blueprint(auth_bp)
    app.register_blueprint(callback_bp)
    app.register_blueprint(account_bp)

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "app_name": app.extensions[EXTENSION].settings.site_app_name,
            "signed_in_user": current_user(),
            "pending_login": pending_token() is not None,
            "nav_form": ActionForm(),
        }

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[str, int]:
        message = "This form has expired. Go back, reload the page and try again."
        return render_template("error.html", code=400, message=message), 400

    for code, message in (
        (404, "This page does not exist."),
        (405, "This address does not accept that request."),
        (413, "The request is too large."),
    ):
        app.register_error_handler(code, _error_page(code, message))

    @app.errorhandler(PasswordsBusy)
    def _busy(exc: PasswordsBusy) -> Response:
        message = "Many people are signing in right now. Please try again in a few seconds."
        response = make_response(render_template("error.html", code=503, message=message), 503)
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(500)
    def _server_error(exc: Exception) -> tuple[str, int]:
        message = "Something went wrong on our side. Please try again."
        return render_template("error.html", code=500, message=message), 500


def _error_page(code: int, message: str) -> Callable[[Exception], tuple[str, int]]:
    def handler(exc: Exception) -> tuple[str, int]:
        return render_template("error.html", code=code, message=message), code

    return handler
