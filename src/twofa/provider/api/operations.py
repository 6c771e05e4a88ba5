"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from twofa.provider.api.guards import services
from twofa.provider.observability import metrics

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """Liveness: the process is up and serving. Example: `{"status":"ok","success":true}`"""
    return JSONResponse({"status": "ok", "success": True})


def _check_database(request: Request) -> str | None:
    try:
        with services(request).db.read() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}"
    return None


def _check_redis(request: Request) -> str | None:
    url = services(request).settings.redis_url
    if not url:
        return None
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:
        return f"{type(exc).__name__}"
    return None


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers (503 otherwise). Redis is reported but not required:
    without it the bus polls the database, so the provider keeps serving.

    `bus` says how events cross processes: `memory` (one process), `redis`, or `degraded`
    (Redis is unreachable and the bus polls the database instead).

    Example: `{"status":"ready","checks":{"database":"ok","redis":"not configured"},
    "bus":"memory","success":true}`
    """
    db_error, redis_error = await asyncio.gather(
        asyncio.to_thread(_check_database, request), asyncio.to_thread(_check_redis, request)
    )
    redis_state = "not configured" if not services(request).settings.redis_url else "ok"
    checks = {"database": db_error or "ok", "redis": redis_error or redis_state}
    ready = db_error is None
    return JSONResponse(
        {
            "status": "ready" if ready else "unavailable",
            "checks": checks,
            "bus": _bus_state(request),
            "success": ready,
        },
        status_code=200 if ready else 503,
    )


def _bus_state(request: Request) -> str:
    """``memory`` (one process), ``redis``, or ``degraded`` (polling the database)."""
    bus = services(request).bus
    if not hasattr(bus, "degraded"):
        return "memory"
    return "degraded" if bus.degraded else "redis"


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    """Prometheus exposition format."""
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
