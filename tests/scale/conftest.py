"""Private servers for the scale and fault tests: Redis and PostgreSQL instances of their own,
pairs of provider processes sharing them, device streams read in threads, loopback receivers.

The machine's shared PostgreSQL (5432) and Redis (6379) are never stopped: every test that
takes a server down takes down one it started itself.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
import pwd
import queue
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.servers import (
    LiveProvider,
    TestDevice,
    e164,
    postgres_database,
    start_provider,
    wait_until,
)
from twofa import process
from twofa.authenticator.device import DeviceApiError, DeviceClient, Event
from twofa.process import free_port
from twofa.storage.engine import upgrade

WAIT = 10.0


# Private servers ------------------------------------------------------------------------------


class PrivateRedis:
    """``redis-server`` on a free port, no persistence; stop and start it at will."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = directory
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        self._proc = process.spawn(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self._dir),
            ],
            env=dict(os.environ),
            log_path=self._dir / f"redis-{self.port}.log",
            append=True,
        )
        wait_until(self.answers, what=f"redis on port {self.port}")

    def answers(self) -> bool:
        import redis

        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self._proc is not None:
            process.stop(self._proc)
        self._proc = None


def _postgres_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    return Path(pg_ctl).parent


class PrivatePostgres:
    """A PostgreSQL cluster of its own (trust auth, loopback only), stopped and started with
    ``pg_ctl``. initdb refuses root, so as root the cluster runs as the ``postgres`` user."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="twofa-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}\n{done.stderr}")

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "30",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


# Provider processes ---------------------------------------------------------------------------

# Generous limits for load loops; the rate-limit test uses its own small SMS limit.
SCALE_ENV = {
    "TWOFA_LIMIT_PUSH_PER_USER": "1000/600",
    "TWOFA_LIMIT_DEVICE_REGISTRATIONS_PER_NUMBER": "50/600",
    "TWOFA_LIMIT_SMS_PER_PHONE": "3/600",
    "TWOFA_DELIVERY_LEASE_SECONDS": "2",
    "TWOFA_DELIVERY_TIMEOUT": "1.5",  # a lease must outlive one delivery attempt
    "TWOFA_LOG_LEVEL": "WARNING",
}


def kill(provider: LiveProvider) -> None:
    """SIGKILL: no graceful shutdown, leases and open streams are simply abandoned."""
    process.kill(provider.proc)


def shut(provider: LiveProvider) -> None:
    """Teardown: kill at once (open event streams would hold a graceful shutdown)."""
    kill(provider)
    provider.services.close()


def launch(data_dir: Path, database_url: str, **extra_env: str) -> LiveProvider:
    """``start_provider`` for an already migrated database (migrations are not thread-safe,
    starting without them lets two processes start at once)."""
    return start_provider(data_dir, database_url, migrate=False, **extra_env)


@dataclass
class Pair:
    """Two provider processes, ``a`` and ``b``, sharing one database and one Redis."""

    a: LiveProvider
    b: LiveProvider
    redis: PrivateRedis
    database_url: str

    def bus_state(self, provider: LiveProvider) -> str:
        return str(httpx.get(provider.url + "/readyz", timeout=5).json()["bus"])


def start_pair(tmp: Path, database_url: str, redis: PrivateRedis, **env: str) -> Pair:
    """Migrate once, then start both processes at the same time."""
    settings = {**SCALE_ENV, "TWOFA_REDIS_URL": redis.url, **env}
    upgrade(database_url)
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(launch, tmp / name, database_url, **settings) for name in ("a", "b")]
    started = [f.result() for f in futures if f.exception() is None]
    if len(started) < 2:
        for provider in started:
            shut(provider)
        raise next(f.exception() for f in futures if f.exception() is not None)  # type: ignore[misc]
    return Pair(started[0], started[1], redis, database_url)


@contextlib.contextmanager
def provider_pair(tmp: Path, **env: str) -> Iterator[Pair]:
    """A pair on a fresh database of the shared PostgreSQL server and a private Redis."""
    redis = PrivateRedis(tmp / "redis")
    redis.start()
    try:
        with postgres_database() as url:
            pair = start_pair(tmp, url, redis, **env)
            try:
                yield pair
            finally:
                shut(pair.a)
                shut(pair.b)
    finally:
        redis.stop()


@pytest.fixture(scope="package")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """The pair shared by the many-process and Redis-outage tests (each uses its own apps)."""
    with provider_pair(tmp_path_factory.mktemp("scale-pair")) as started:
        yield started


# Accounts and devices ------------------------------------------------------------------------


@dataclass
class Account:
    """An application with one user, driven over the Authy API of whichever process."""

    api_key: str
    authy_id: int
    national: str
    app_id: int

    @property
    def phone(self) -> str:
        return e164(self.national)

    def call(self, provider: LiveProvider, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            provider.url + path,
            headers={"X-Authy-API-Key": self.api_key},
            timeout=10,
            **kwargs,
        )

    def push(self, provider: LiveProvider, message: str = "Log in") -> str:
        response = self.call(
            provider,
            "POST",
            f"/onetouch/json/users/{self.authy_id}/approval_requests",
            json={"message": message, "details": {"Email": "a@example.com"}},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["approval_request"]["uuid"])

    def status(self, provider: LiveProvider, uuid: str) -> str:
        response = self.call(provider, "GET", f"/onetouch/json/approval_requests/{uuid}")
        assert response.status_code == 200, response.text
        return str(response.json()["approval_request"]["status"])


def new_account(provider: LiveProvider, callback_url: str | None = None) -> Account:
    national = provider.new_phone()
    app_id, api_key = provider.new_app("Scale", callback_url=callback_url)
    response = httpx.post(
        provider.url + "/protected/json/users/new",
        headers={"X-Authy-API-Key": api_key},
        json={"user": {"email": "alice@example.com", "cellphone": national, "country_code": 1}},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return Account(api_key, int(response.json()["user"]["id"]), national, app_id)


@dataclass
class Device:
    """A registered device that can talk to any provider process."""

    enrolled: TestDevice

    def on(self, provider: LiveProvider) -> TestDevice:
        return self.enrolled.via(provider.url)


def enrol(provider: LiveProvider, national: str, name: str = "phone") -> Device:
    """Register a device through the real device API, reading the code from the outbox."""
    return Device(provider.enroll_device(1, national, name=name))


# Event streams --------------------------------------------------------------------------------


@dataclass
class Arrival:
    at: float  # time.perf_counter() when the event was read
    wall: float  # time.time() then
    event: Event

    @property
    def since_stamped(self) -> float:
        """Seconds from the provider stamping the event (its id, in ms) to its arrival here."""
        return self.wall - int(self.event.id or 0) / 1000


@dataclass
class Stream:
    """A device's event stream read in a thread; events are kept with their arrival time."""

    client: DeviceClient
    last_event_id: str | None = None
    arrivals: list[Arrival] = field(default_factory=list)
    error: DeviceApiError | None = None
    done: threading.Event = field(default_factory=threading.Event)
    _opened: threading.Event = field(default_factory=threading.Event)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> Stream:
        threading.Thread(target=self._run, daemon=True).start()
        assert self._opened.wait(WAIT), "the stream did not open"
        if self.error is not None:
            raise self.error
        return self

    def _run(self) -> None:
        try:
            for event in self.client.events(self.last_event_id, on_open=self._opened.set):
                with self._changed:
                    self.arrivals.append(Arrival(time.perf_counter(), time.time(), event))
                    if event.id:
                        self.last_event_id = event.id
                    self._changed.notify_all()
        except DeviceApiError as exc:
            self.error = exc
        finally:
            self._opened.set()
            self.done.set()
            with self._changed:
                self._changed.notify_all()

    def find(self, name: str, uuid: str) -> Arrival | None:
        with self._changed:
            for arrival in self.arrivals:
                if arrival.event.event == name and arrival.event.data.get("uuid") == uuid:
                    return arrival
        return None

    def wait_for(self, name: str, uuid: str, timeout: float = WAIT) -> Arrival:
        """The first ``name`` event about ``uuid`` (already received or still to come)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for arrival in self.arrivals:
                    if arrival.event.event == name and arrival.event.data.get("uuid") == uuid:
                        return arrival
                left = deadline - time.monotonic()
                if left <= 0 or self.done.is_set():
                    raise AssertionError(
                        f"no {name} for {uuid} within {timeout} s (stream ended: "
                        f"{self.done.is_set()}, error: {self.error})"
                    )
                self._changed.wait(left)

    def seen(self, name: str) -> set[str]:
        with self._changed:
            return {str(a.event.data.get("uuid")) for a in self.arrivals if a.event.event == name}


# Loopback receivers ---------------------------------------------------------------------------


def _peer_closed(sock: socket.socket) -> bool:
    """True when the other end has closed the connection (a killed sender)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class CallbackReceiver:
    """A relying party's callback endpoint that can hold requests behind a gate.

    A callback counts as delivered (``acknowledged``) when the receiver answered 200 to a
    sender that was still there to read it; one whose sender vanished while it was held is
    ``abandoned`` (the sender never learnt it was delivered, so it must be sent again).
    """

    def __init__(self) -> None:
        import http.server
        import json

        self.acknowledged: list[str] = []
        self.abandoned: list[str] = []
        self.held: set[str] = set()
        self._lock = threading.Lock()
        self._gate = threading.Event()
        self._gate.set()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                uuid = str(body.get("uuid"))
                with receiver._lock:
                    receiver.held.add(uuid)
                receiver._gate.wait(60)
                with receiver._lock:
                    receiver.held.discard(uuid)
                    if _peer_closed(self.connection):
                        receiver.abandoned.append(uuid)
                        self.close_connection = True
                        return
                    receiver.acknowledged.append(uuid)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/authy/callback"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def holding(self) -> set[str]:
        with self._lock:
            return set(self.held)

    def counts(self) -> dict[str, int]:
        with self._lock:
            found: dict[str, int] = {}
            for uuid in self.acknowledged:
                found[uuid] = found.get(uuid, 0) + 1
            return found

    def close(self) -> None:
        self._gate.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def callbacks() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    yield receiver
    receiver.close()


class SlowGateway:
    """An SMS gateway webhook that answers after ``delay`` seconds; keeps what it was sent."""

    def __init__(self) -> None:
        import http.server
        import json

        self.delay = 0.0
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                time.sleep(gateway.delay)
                gateway.received.put(payload)
                with contextlib.suppress(OSError):
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/sms"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def slow_gateway() -> Iterator[SlowGateway]:
    gateway = SlowGateway()
    yield gateway
    gateway.close()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]
