"""The provider's ASGI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from twofa import __version__
from twofa.authenticator import web_files
from twofa.provider import errors_http
from twofa.provider.api import (
    application,
    authy,
    devices,
    onetouch,
    operations,
    outbox,
    phones,
    verify,
    verify_factors,
    verify_limits,
    verify_messaging,
    verify_webhooks,
    webpush,
)
from twofa.provider.api.docs import PlainRoute, plain_route
from twofa.provider.api.hot_routes import HotRoutes
from twofa.provider.api.verify_plumbing import install as install_verify
from twofa.provider.audit.writer import write_buffered
from twofa.provider.bodylimit import BodyLimit
from twofa.provider.console.app import mount as mount_console
from twofa.provider.console.templating import PREFIX as CONSOLE_PREFIX
from twofa.provider.observability import logs
from twofa.provider.observability.access import AccessLog
from twofa.provider.observability.middleware import Observe
from twofa.provider.services import Services, build_services
from twofa.settings import Settings
from twofa.storage.jobs import JobLease

log = logging.getLogger(__name__)
SWEEP_SECONDS = 1.0
AUDIT_CHAIN_SECONDS = 1.0
CHECKPOINT_SECONDS = 2.0
USAGE_FLUSH_SECONDS = 1.0


async def _every(
    seconds: float,
    job: Callable[[], object],
    name: str,
    *,
    runner: Callable[[], bool] | None = None,
    run: Callable[[Callable[[], object]], Awaitable[object]] = asyncio.to_thread,
) -> None:
    """Run a blocking maintenance ``job`` every ``seconds``, forever, in a worker thread (or
    with ``run``); with ``runner``, only while it says this process is the deployment's job
    runner."""
    while True:
        try:
            if runner is None or await asyncio.to_thread(runner):
                await run(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", name)
        await asyncio.sleep(seconds)


async def _watch_deliveries(services: Services, wake: asyncio.Event) -> None:
    """Wake the delivery worker when a change anywhere queues a delivery."""
    async with services.bus.subscribe("deliveries") as sub:
        async for _ in sub:
            wake.set()


class ProviderApp(FastAPI):
    """FastAPI, with the provider's own middleware in front of the framework's layers.

    ``front`` (request id, metrics and access log, body limit, then the hot routes) sees every
    request first; what the hot routes do not answer goes on to the framework (``framework``):
    its error middleware, exception handlers, router and every other route, as before. In
    front, the busiest route skips the framework's per-request layers (``api/hot_routes.py``)
    without skipping any of the provider's.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.front: ASGIApp = self.framework

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        await self.front(scope, receive, send)


def create_app(
    settings: Settings, services: Services | None = None, *, workers: bool = True
) -> FastAPI:
    """Build the provider: routes, error envelope, body limit, background workers."""
    services = services or build_services(settings)

    jobs = JobLease(services.db)
    # Formatted and batched where logs.configure() owns the output (``twofa provider``).
    access_log = AccessLog(logs.output) if settings.access_log else None

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await services.bus.start()
        try:
            # The deployment's VAPID key is made on first start, not on a device's first visit.
            await asyncio.to_thread(services.webpush.vapid_key)
        except Exception:
            log.exception("web push: the VAPID key is unusable; no wake-ups will be sent")
        tasks: list[asyncio.Task[None]] = []
        if access_log is not None:
            tasks.append(asyncio.create_task(access_log.run()))
        if workers:
            wake = asyncio.Event()
            once = jobs.held  # jobs over the whole database: one process of the deployment
            tasks += [
                asyncio.create_task(services.deliveries.run(wake)),
                asyncio.create_task(_watch_deliveries(services, wake)),
                # This process's buffers: its audit events (written as they come) and usage
                # counters.
                asyncio.create_task(write_buffered(services.audit)),
                asyncio.create_task(
                    _every(
                        USAGE_FLUSH_SECONDS,
                        services.codes.usage.flush,
                        "usage counters",
                        # On the loop, beside verifications (PostgreSQL: asyncio driver).
                        run=functools.partial(services.db.run, on_loop=True),
                    )
                ),
                # Expire overdue requests so devices hear of it without anyone reading them.
                asyncio.create_task(
                    _every(SWEEP_SECONDS, services.push.expire_due, "expiry", runner=once)
                ),
                asyncio.create_task(
                    _every(AUDIT_CHAIN_SECONDS, services.audit.chain_all, "chain", runner=once)
                ),
                asyncio.create_task(
                    _every(CHECKPOINT_SECONDS, services.db.checkpoint, "checkpoint", runner=once)
                ),
                asyncio.create_task(
                    _every(
                        settings.retention_interval,
                        services.retention.purge,
                        "retention",
                        runner=once,
                    )
                ),
            ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for flush in (services.codes.usage.flush, services.audit.flush_all):
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(flush)
            await services.bus.close()
            await services.db.dispose_async()
            jobs.release()
            services.close()

    app = ProviderApp(
        title="twofa provider",
        version=__version__,
        description=(
            "A self-hosted two-factor authentication service that speaks the Authy REST API. "
            "Point any Authy client at this server's base URL."
        ),
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        # twofa exports its own Prometheus metrics and JSON logs; FastAPI's OpenTelemetry
        # bridge would otherwise check for a configured provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    app.state.settings = settings
    errors_http.install(app)
    install_verify(app)
    # The busiest route: listed first in the router (and in the OpenAPI document), and served
    # in front of the framework, inside the provider's own middleware, by the same endpoint.
    verify_route = PlainRoute(authy.VERIFY_PATH, authy.verify_token, methods=["GET"])
    plain_route(app, verify_route, tag=authy.TAG, extra=authy.VERIFY_DOC, name="verify_token")
    app.front = Observe(
        BodyLimit(
            HotRoutes(app.framework, routes=[verify_route]),
            max_bytes=settings.max_body_bytes,
            uploads=(f"{CONSOLE_PREFIX}/import", settings.console_import_max_bytes),
        ),
        access_log=access_log,
    )

    for module in (operations, authy, onetouch, phones, application):
        app.include_router(module.router)
    app.include_router(devices.router)
    app.include_router(verify.router)
    app.include_router(verify_limits.router)
    app.include_router(verify_factors.router)
    app.include_router(verify_webhooks.router)
    app.include_router(verify_messaging.router)
    app.include_router(webpush.router)
    if settings.env == "dev" and settings.sms_gateway == "outbox":
        app.include_router(outbox.router)
    mount_console(app, services, settings)
    web_files.mount(app)
    return app
