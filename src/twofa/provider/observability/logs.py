"""JSON logs, one object per line, each carrying the id of the request it belongs to."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...extra}`` per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        fields = vars(record)
        for key in fields.keys() - _STANDARD:
            if not key.startswith("_"):
                entry[key] = fields[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encode(entry)


_encode = json.JSONEncoder(default=str, separators=(",", ":")).encode
_second: tuple[int, str] = (0, "")


def timestamp(created: float) -> str:
    """ISO 8601 UTC with milliseconds; the part up to the second is formatted once a second."""
    global _second
    whole = int(created)
    cached = _second  # one read: another thread may replace it, never half of it
    if cached[0] != whole:
        cached = _second = (whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{cached[1]}.{int((created - whole) * 1000):03d}+00:00"


@dataclass(frozen=True, slots=True)
class Output:
    """The stream ``configure`` set up, for a writer that formats its own lines (the access
    log). Text goes out under the handler's lock, so it never lands inside another record."""

    handler: logging.StreamHandler[TextIO]
    json: bool

    def write(self, text: str) -> None:
        """Write and flush ``text`` (whole lines); a stream that fails drops it, as logging's
        handlers do, rather than failing the request that logged it."""
        handler = self.handler
        handler.acquire()
        try:
            handler.stream.write(text)
            handler.stream.flush()
        except (OSError, ValueError):  # closed or broken stream
            pass
        finally:
            handler.release()


output: Output | None = None  # set by configure(); None where logging is set up elsewhere


def configure(level: str = "INFO", *, json_output: bool = True) -> None:
    """Send twofa's and uvicorn's logs to stderr, as JSON unless asked otherwise."""
    global output
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_output else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    output = Output(handler, json_output)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # replaced by our access log
    # Neither format prints where a call was made from, nor which thread or process made it:
    # finding out cost every record (one per request, for the access log) a walk of the stack
    # and a few lookups. The logging HOWTO's "Optimization" section names these switches.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.getLogger("httpx").setLevel(logging.WARNING)
