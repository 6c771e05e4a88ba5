"""Prometheus metrics: the one place they are defined.

With several worker processes (``twofa provider --workers N``) the client library's
multiprocess mode aggregates them; ``PROMETHEUS_MULTIPROC_DIR`` is set by the command.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("twofa_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "twofa_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
VERIFICATIONS = Counter("twofa_verifications_total", "Token verifications", ["outcome"])
MESSAGES = Counter("twofa_messages_total", "Messages sent", ["gateway", "channel", "result"])
DECISION_SECONDS = Histogram(
    "twofa_push_decision_seconds",
    "Time from approval request to the user's decision",
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
)
DELIVERIES = Counter(
    "twofa_delivery_attempts_total",
    "Attempts of queued deliveries (callbacks) by kind and result: delivered, retry, refused",
    ["kind", "result"],
)
DELIVERY_PAUSES = Counter("twofa_delivery_pauses_total", "Receivers paused by the breaker")
DELIVERY_PAUSED = Gauge(
    "twofa_delivery_receivers_paused",
    "Receivers paused by the breaker right now",
    multiprocess_mode="max",
)
AUDIT_DROPPED = Counter(
    "twofa_audit_events_dropped_total", "Audit events lost: the buffer was full (database down)"
)
AUDIT_LATE = Counter(
    "twofa_audit_events_late_total", "Audit events written more than 5 s after they happened"
)
AUDIT_BUFFERED = Gauge(
    "twofa_audit_events_buffered", "Audit events waiting in memory", multiprocess_mode="livesum"
)
RATE_LIMITED = Counter("twofa_rate_limited_total", "Requests refused by a rate limit", ["limit"])
FRAUD_BLOCKS = Counter("twofa_fraud_blocks_total", "Destination prefixes blocked for SMS pumping")
FRAUD_REFUSED = Counter("twofa_fraud_refused_total", "Sends refused by the fraud guard", ["reason"])
DB_THREAD_HOPS = Counter(
    "twofa_db_thread_hops_total",
    "Database work moved from the event loop to a worker thread because SQLite's write lock "
    "was held (by another process, or by this process's own writers)",
)
OPEN_STREAMS = Gauge("twofa_open_streams", "Open event streams", multiprocess_mode="livesum")


def render() -> tuple[bytes, str]:
    """The exposition text, aggregated across processes when running with several workers."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
