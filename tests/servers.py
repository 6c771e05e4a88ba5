"""Real twofa servers on loopback ports, and the helpers of the tiers that use them (live,
compat, browser, scale, deployment); the processes start through ``twofa.process``."""

from __future__ import annotations

import contextlib
import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import psycopg

from twofa import otp, process
from twofa.authenticator import keys
from twofa.authenticator.device import (
    ApprovalRequest,
    DeviceClient,
    confirm_registration,
    start_registration,
)
from twofa.process import clean_env, free_port, twofa_command
from twofa.provider.messaging.service import StoredMessage
from twofa.provider.services import Services, build_services
from twofa.settings import Settings, load_settings
from twofa.storage.engine import upgrade

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TEST_SECRET = "test-secret-key-" + "x" * 40
# How long a server may take to answer after it starts. Generous: on a loaded machine a start
# takes many times its usual second or two, and a server that dies fails the wait at once.
START_TIMEOUT = 180.0
T = TypeVar("T")


def wait_until(
    check: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll ``check()`` until it returns something truthy; fail after ``timeout`` seconds.

    Each call should look afresh (a new request, a new transaction): on a loaded machine the
    thing awaited may come late, and a test must wait for it rather than assume it is there.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        time.sleep(interval)


def e164(national: str, country_code: str | int = "1") -> str:
    """``201-555-0123`` → ``+12015550123``."""
    return f"+{country_code}" + re.sub(r"\D", "", national)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test session, dropped afterwards."""
    name = f"twofa_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def provider_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    defaults = {
        "TWOFA_ENV": "test",
        "TWOFA_SECRET_KEY": TEST_SECRET,
        "TWOFA_DATA_DIR": str(data_dir),
        "TWOFA_DATABASE_URL": database_url,
        "TWOFA_LIMIT_SMS_PER_PHONE": "20/600",
        "TWOFA_LIMIT_PHONE_VERIFICATIONS_PER_NUMBER": "20/600",
        # Every test registers devices from 127.0.0.1; budgets per number still apply.
        "TWOFA_LIMIT_DEVICE_REGISTRATIONS_PER_IP": "100000/600",
        "TWOFA_LIMIT_DEVICE_REGISTRATIONS_TOTAL": "100000/600",
        "TWOFA_WORKER_POLL_INTERVAL": "0.2",
        "TWOFA_DELIVERY_RETRY_BASE": "1.5",
        "TWOFA_CALLBACK_ALLOW_PRIVATE": "true",  # receivers listen on loopback here
    }
    return clean_env(**{**defaults, **extra})


@dataclass
class LiveProvider:
    """A provider process on a loopback port plus direct access to its database."""

    url: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    services: Services
    log_path: Path
    _phones: Iterator[int] = field(default_factory=lambda: iter(range(10**6)))
    _owners_app: int | None = None

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def new_app(self, name: str = "Test App", callback_url: str | None = None) -> tuple[int, str]:
        """A fresh application; returns (app id, API key)."""
        created = self.services.apps.create(
            f"{name} {secrets.token_hex(3)}", callback_url=callback_url
        )
        return created.app.id, created.api_key

    def new_phone(self) -> str:
        """A distinct valid US number in area code 201 (exchange 200-999, never N11)."""
        n = next(self._phones) * 7919 + secrets.randbelow(10**7)
        exchange = 200 + (n // 10000) % 800
        if exchange % 100 == 11:
            exchange += 1
        return f"201-{exchange:03d}-{n % 10000:04d}"

    def know_number(self, country_code: str | int, phone: str) -> None:
        """Make ``phone`` a user of an application, so device registration sends it a code."""
        if self.services.fraud.store.is_known_number(e164(phone, country_code)):
            return
        if self._owners_app is None:
            self._owners_app = self.new_app("Phone owners")[0]
        self.services.users.create(
            self._owners_app, email="owner@example.com", cellphone=phone, country_code=country_code
        )

    def outbox(self, to: str | None = None) -> list[StoredMessage]:
        return self.services.messaging.list(to=to)

    def last_code(self, to_e164: str, digits: int = 7) -> str:
        messages = self.outbox(to_e164)
        assert messages, f"no message to {to_e164}"
        # The code comes after the application's name, which may hold digit runs of its own.
        found = re.findall(rf"\b(\d{{{digits}}})\b", messages[-1].body)
        assert found, messages[-1].body
        return str(found[-1])

    def enroll_device(
        self,
        country_code: str | int,
        phone: str,
        *,
        name: str = "Test phone",
        os_type: str = "cli",
        approve: bool = True,
    ) -> TestDevice:
        """Register a new authenticator device for ``phone`` with the code from the outbox.

        A further device of the phone waits for approval; with ``approve`` (the default) the
        operator approves it at once, so tests about something else get a working device.
        """
        self.know_number(country_code, phone)
        started = start_registration(self.url, country_code=str(country_code), phone_number=phone)
        code = self.last_code(e164(phone, country_code), 6)
        key = keys.generate()
        device = confirm_registration(
            self.url,
            started.registration_id,
            code=code,
            name=name,
            os_type=os_type,
            public_key=keys.public_jwk(key),
        )
        if device.get("state") == "pending" and approve:
            self.services.devices.approvals.operator_approve(device["uuid"])
        return TestDevice(self.url, device["uuid"], key)

    def stop(self) -> None:
        process.stop(self.proc)
        self.services.close()


class TestDevice(DeviceClient):
    """An enrolled authenticator device with the shortcuts tests need."""

    __test__ = False  # not a test class, even when imported into a test module

    def approve(self, uuid: str, number: int | None = None) -> str:
        """Approve (picking ``number`` under number matching); the status the provider recorded."""
        return self.decide(uuid, approve=True, number=number)

    def deny(self, uuid: str) -> str:
        return self.decide(uuid, approve=False)

    def via(self, provider_url: str) -> TestDevice:
        """The same device talking to another provider process (same database)."""
        return TestDevice(provider_url, self.device_uuid, self._key, timeout=self._timeout)

    def wait_pending(self, count: int = 1, timeout: float = 10.0) -> list[ApprovalRequest]:
        """Wait until at least ``count`` requests are pending; return them (oldest first)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.pending()
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"expected {count} pending requests, got {found}"
                return found
            time.sleep(0.05)

    def app_code(self, authy_id: int) -> str:
        """The current TOTP code of the synced account ``authy_id``, computed on the device."""
        for account in self.accounts():
            if account.authy_id == authy_id:
                return otp.totp(
                    account.secret, time.time(), digits=account.digits, step=account.period
                )
        raise AssertionError(f"no account {authy_id} on device {self.device_uuid}")


def start_provider(
    data_dir: Path, database_url: str, *, migrate: bool = True, **extra_env: str
) -> LiveProvider:
    """Start ``twofa provider`` on a free port, migrating ``database_url`` first unless told
    not to (migrations are not safe to run from two threads at once)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        upgrade(database_url)
    port = free_port()
    env = provider_env(data_dir, database_url, **extra_env)
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir / f"provider-{port}.log"
    proc = process.start(
        twofa_command("provider", "--port", str(port), "--no-migrate"),
        url + "/healthz",
        env=env,
        log_path=log_path,
        timeout=START_TIMEOUT,
    )
    overrides = {k[len("TWOFA_") :].lower(): v for k, v in env.items() if k.startswith("TWOFA_")}
    services = build_services(load_settings(**overrides))
    return LiveProvider(url, env, proc, services, log_path)


@dataclass
class Recorded:
    """One request a ``RecordingServer`` received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class RecordingServer:
    """A loopback HTTP server that records requests and answers with a settable status.

    Stands in for an SMS gateway, the Twilio API or a relying party's callback endpoint. With
    ``hold`` set, each request is recorded, then answered only once the event is set.
    """

    def __init__(self, status: int = 200, body: bytes = b'{"ok":true}') -> None:
        import http.server
        import threading

        self.status = status
        self.body = body
        self.hold: threading.Event | None = None
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                with server._lock:
                    server.requests.append(
                        Recorded(self.command, self.path, dict(self.headers.items()), data)
                    )
                    status, body, hold = server.status, server.body, server.hold
                if hold is not None:
                    hold.wait(60)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def received(self) -> list[Recorded]:
        with self._lock:
            return list(self.requests)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Recorded]:
        """Wait until at least ``count`` requests arrived; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"expected {count} requests, got {len(self.received())}")

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


class RecordedPath:
    """One test's share of a long-lived ``RecordingServer``: the requests under its own prefix.

    ``url`` is the server's address plus a random path prefix; ``received`` lists the requests
    made below it, with the prefix taken off their paths.
    """

    def __init__(self, server: RecordingServer) -> None:
        self.server = server
        self.prefix = "/" + secrets.token_hex(6)
        self.url = server.url + self.prefix

    def received(self) -> list[Recorded]:
        return [
            Recorded(r.method, r.path[len(self.prefix) :], r.headers, r.body)
            for r in self.server.received()
            if r.path.startswith(self.prefix + "/")
        ]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Recorded]:
        """Wait until at least ``count`` requests arrived under the prefix; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"expected {count} requests, got {len(self.received())}")


def run_cli(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``twofa ARGS`` as a subprocess with exactly ``env``."""
    return subprocess.run(
        twofa_command(*args),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
