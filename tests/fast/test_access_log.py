"""The access log: the same line as the JSON formatter's, written in whole-line batches."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from twofa.provider.observability import logs
from twofa.provider.observability.access import CHUNK, AccessLog

ROUTE = "/protected/json/verify/{token}/{authy_id}"


class Recorded(io.StringIO):
    """A stream that keeps each write apart."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


@pytest.fixture
def stream(caplog: pytest.LogCaptureFixture) -> Iterator[Recorded]:
    caplog.set_level(logging.INFO, logger="twofa.access")
    yield Recorded()


def output(stream: Recorded, *, json_output: bool = True) -> logs.Output:
    return logs.Output(logging.StreamHandler(stream), json_output)


def add(access: AccessLog, n: int = 0, status: int = 401) -> None:
    access.add(method="GET", route=ROUTE, status=status, seconds=0.001234, rid=f"abcdef12{n:x}")


def test_a_line_says_what_the_json_formatter_says(stream: Recorded) -> None:
    add(AccessLog(output(stream)))
    line = json.loads(stream.getvalue())

    record = logging.getLogger("twofa.access").makeRecord(
        "twofa.access",
        logging.INFO,
        __file__,
        0,
        "%s %s %s",
        ("GET", ROUTE, 401),
        None,
        extra={"status": 401, "duration_ms": 1.23, "route": ROUTE},
    )
    token = logs.request_id.set("abcdef120")
    try:
        formatted = json.loads(logs.JsonFormatter().format(record))
    finally:
        logs.request_id.reset(token)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line.pop("time"))
    formatted.pop("time")
    assert line == formatted
    assert line["message"] == f"GET {ROUTE} 401" and line["duration_ms"] == 1.23


def test_plain_output_has_the_plain_format(stream: Recorded) -> None:
    add(AccessLog(output(stream, json_output=False)), status=200)
    assert stream.getvalue() == f"INFO twofa.access GET {ROUTE} 200\n"


def test_without_its_task_each_line_is_written_at_once(stream: Recorded) -> None:
    access = AccessLog(output(stream))
    add(access, 1)
    add(access, 2)
    assert len(stream.writes) == 2


def test_while_running_lines_wait_and_the_rest_is_written_when_it_stops(
    stream: Recorded,
) -> None:
    async def scenario() -> None:
        access = AccessLog(output(stream), flush_seconds=3600)
        task = asyncio.create_task(access.run())
        await asyncio.sleep(0)  # the task starts batching
        for n in range(3):
            add(access, n)
        assert stream.getvalue() == ""
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert [json.loads(line)["request_id"] for line in stream.getvalue().splitlines()] == [
            "abcdef120",
            "abcdef121",
            "abcdef122",
        ]
        add(access, 3)  # stopped: written at once again
        assert stream.getvalue().count("\n") == 4

    asyncio.run(scenario())


def test_each_write_is_whole_lines_within_a_pipe_buffer(stream: Recorded) -> None:
    async def scenario() -> None:
        access = AccessLog(output(stream), flush_seconds=3600)
        task = asyncio.create_task(access.run())
        await asyncio.sleep(0)
        for n in range(200):
            add(access, n)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert len(stream.writes) > 5  # written as the queue filled, not only at the end
    for text in stream.writes:
        assert len(text.encode()) <= CHUNK and text.endswith("\n")
    ids = [json.loads(line)["request_id"] for line in stream.getvalue().splitlines()]
    assert ids == [f"abcdef12{n:x}" for n in range(200)]


def test_below_info_nothing_is_written(stream: Recorded, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="twofa.access")
    add(AccessLog(output(stream)))
    assert stream.getvalue() == ""


def test_logging_set_up_elsewhere_gets_a_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="twofa.access")
    add(AccessLog(None), status=200)
    (record,) = [r for r in caplog.records if r.name == "twofa.access"]
    assert record.getMessage() == f"GET {ROUTE} 200"
    assert (record.status, record.duration_ms, record.route) == (200, 1.23, ROUTE)  # type: ignore[attr-defined]
