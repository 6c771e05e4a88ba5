"""The reference deployment (deploy/local.py), checked from the outside through nginx.

It starts what `deploy/run-local.sh` starts - two provider processes and the site on PostgreSQL
and Redis, nginx in front - on free ports with databases of its own, drives it with the official
``authy`` client and the device library, and checks that stopping it leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from authy.api import AuthyApiClient

from tests.servers import POSTGRES_ADMIN
from twofa.authenticator import keys
from twofa.authenticator.device import DeviceClient, confirm_registration, start_registration

pytestmark = [pytest.mark.deployment, pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "deploy" / "local.py"
START_TIMEOUT = 90.0


def nginx_installed() -> bool:
    return shutil.which("nginx") is not None or os.access("/usr/sbin/nginx", os.X_OK)


def e164(national: str) -> str:
    return "+1" + re.sub(r"\D", "", national)


def new_phone() -> str:
    return f"201-{secrets.randbelow(1000):03d}-{secrets.randbelow(10000):04d}"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _proc_state(pid)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


@dataclass
class Deployed:
    url: str
    state: dict[str, Any]
    state_dir: Path

    @property
    def api_key(self) -> str:
        return str(self.state["env"]["TWOFA_SITE_API_KEY"])

    @property
    def provider_urls(self) -> list[str]:
        return [p["url"] for p in self.state["providers"]]

    def twofa(self, *args: str) -> str:
        """Run the ``twofa`` command against this deployment (its environment, no .env)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWOFA_")}
        env.update(self.state["env"])
        done = subprocess.run(
            [sys.executable, "-m", "twofa.cli", *args],
            env=env,
            cwd=self.state_dir,
            capture_output=True,
            timeout=30,
            check=True,
        )
        return done.stdout.decode()

    def last_code(self, phone: str, digits: int) -> str:
        messages = json.loads(self.twofa("outbox", "--json", "--to", phone))
        assert messages, f"no message to {phone}"
        match = re.search(rf"\b(\d{{{digits}}})\b", messages[-1]["body"])
        assert match, messages[-1]["body"]
        return match.group(1)


def _databases(names: list[str]) -> list[str]:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", (names,)
        ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    if not nginx_installed():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("nginx is required in CI (make deploy-deps installs it)")
        pytest.skip("nginx is not installed (make deploy-deps, or apt-get install -y nginx)")
    base = tmp_path_factory.mktemp("deployment")
    state_dir = base / "state"
    database = f"twofa_deploy_{secrets.token_hex(5)}"
    output = (base / "run-local.out").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(LOCAL),
            "up",
            "--port",
            "0",
            "--state-dir",
            str(state_dir),
            "--database",
            database,
        ],
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    state: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(
                    f"deploy/local.py exited with {proc.returncode}:\n"
                    f"{(base / 'run-local.out').read_text()}"
                )
            try:
                state = json.loads((state_dir / "state.json").read_text())
            except (OSError, ValueError):
                state = {}
            if state.get("status") == "ready":
                break
            time.sleep(0.2)
        else:
            pytest.fail(
                f"the deployment was not ready within {START_TIMEOUT:.0f} s:\n"
                f"{(base / 'run-local.out').read_text()}"
            )
        yield Deployed(state["url"], state, state_dir)
    finally:
        subprocess.run(
            [sys.executable, str(LOCAL), "stop", "--state-dir", str(state_dir)],
            capture_output=True,
            timeout=60,
            check=False,
        )
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        output.close()
    # Stopping leaves nothing behind: no process, no database, no state file.
    pids = [p["pid"] for p in state.get("providers", [])]
    pids += [state[part]["pid"] for part in ("site", "nginx") if state.get(part)]
    assert pids and not [pid for pid in pids if alive(pid)]
    assert _databases(state.get("databases") or [database, f"{database}_site"]) == []
    assert not (state_dir / "state.json").exists()


def metric_total(url: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``, read from one process."""
    text = httpx.get(url + "/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        sample_labels = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}", 1)[0]))
        if all(sample_labels.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


# --------------------------------------------------------------------------------------------


def test_health_and_readiness_through_nginx(deployment: Deployed) -> None:
    assert httpx.get(deployment.url + "/healthz", timeout=5).status_code == 200
    ready = httpx.get(deployment.url + "/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_authy_client_sms_round_trip(deployment: Deployed) -> None:
    authy = AuthyApiClient(deployment.api_key, api_uri=deployment.url)
    national = new_phone()
    user = authy.users.create("deploy@example.com", national, 1)
    assert user.ok(), user.content
    sms = authy.users.request_sms(user.id, {"force": True})
    assert sms.ok(), sms.content
    code = deployment.last_code(e164(national), 7)
    wrong = "0000000" if code != "0000000" else "1111111"
    assert not authy.tokens.verify(user.id, wrong).ok()
    verified = authy.tokens.verify(user.id, code)
    assert verified.ok(), verified.content
    assert not authy.tokens.verify(user.id, code).ok()  # single use, whichever process answers
    # nginx logs the verify route with the code masked.
    access_log = (Path(deployment.state["logs"]) / "nginx-access.log").read_text()
    assert f"/protected/json/verify/***/{user.id}" in access_log
    assert code not in access_log


def test_requests_are_balanced_over_both_providers(deployment: Deployed) -> None:
    before = [
        metric_total(u, "twofa_http_requests_total", route="/readyz")
        for u in deployment.provider_urls
    ]
    served_by = {
        httpx.get(deployment.url + "/readyz", timeout=5).headers["x-served-by"] for _ in range(10)
    }
    after = [
        metric_total(u, "twofa_http_requests_total", route="/readyz")
        for u in deployment.provider_urls
    ]
    assert served_by == {u.removeprefix("http://") for u in deployment.provider_urls}
    assert all(b > a for a, b in zip(before, after, strict=True)), (before, after)


def test_request_id_is_shared_by_nginx_and_provider(deployment: Deployed) -> None:
    response = httpx.get(
        deployment.url + "/protected/json/app/details",
        timeout=5,
        headers={"X-Authy-API-Key": deployment.api_key},
    )
    assert response.status_code == 200
    rid = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    access_log = Path(deployment.state["logs"]) / "nginx-access.log"
    deadline = time.monotonic() + 15  # a loaded machine writes logs late
    while rid not in access_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    entry = next(json.loads(line) for line in access_log.read_text().splitlines() if rid in line)
    assert entry["uri"] == "/protected/json/app/details" and entry["status"] == 200


def test_device_event_stream_is_not_buffered(deployment: Deployed) -> None:
    url = deployment.url
    authy = AuthyApiClient(deployment.api_key, api_uri=url)
    national = new_phone()
    user = authy.users.create("phone@example.com", national, 1)
    assert user.ok(), user.content
    started = start_registration(url, country_code="1", phone_number=national)
    key = keys.generate()
    device = confirm_registration(
        url,
        started.registration_id,
        code=deployment.last_code(e164(national), 6),
        name="deployment test",
        os_type="cli",
        public_key=keys.public_jwk(key),
    )
    client = DeviceClient(url, device["uuid"], key)

    lines: queue.Queue[tuple[float, str | None]] = queue.Queue()
    path = "/device/v1/events"
    headers = client.signed_headers("GET", path, b"")
    with httpx.stream(
        "GET", url + path, headers=headers, timeout=httpx.Timeout(10, read=30)
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in response.headers
        stream_served_by = response.headers["x-served-by"]

        def read() -> None:
            try:
                for line in response.iter_lines():
                    lines.put((time.monotonic(), line))
            except httpx.HTTPError:
                pass
            lines.put((time.monotonic(), None))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        first = lines.get(timeout=3)[1]  # the opening "retry:" frame arrives on its own
        assert first is not None and first.startswith("retry:")

        sent_at = time.monotonic()
        push = authy.one_touch.send_request(user.id, "Deployment check", seconds_to_expire=120)
        assert push.ok(), push.content
        uuid = push.get_uuid()
        # least_conn: the stream holds one process, so the push lands on the other and reaches
        # the stream through Redis.
        assert push.response.headers["x-served-by"] != stream_served_by

        received: list[str] = []
        arrived = None
        while arrived is None:
            at, line = lines.get(timeout=8)
            assert line is not None, f"stream closed early: {received}"
            received.append(line)
            if line.startswith("data:") and uuid in line and "event: request" in received:
                arrived = at
        assert arrived - sent_at < 5.0, f"event took {arrived - sent_at:.2f} s through nginx"

        client.revoke()  # the provider ends the stream with "revoked"
        while (line := lines.get(timeout=5)[1]) is not None:
            received.append(line)
        reader.join(5)
    assert "event: revoked" in received


def test_site_through_nginx(deployment: Deployed) -> None:
    site_url = deployment.state["site_url"]
    assert site_url.startswith("http://localhost:")
    page = httpx.get(site_url + "/", timeout=5)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert page.headers["x-served-by"] == deployment.state["site"]["url"].removeprefix("http://")
    # The provider's callbacks reach the site through nginx; an unsigned one is refused, not 500.
    unsigned = httpx.post(site_url + "/authy/callback", json={"uuid": "x"}, timeout=5)
    assert unsigned.status_code == 400
    # The site's host serves nothing of the provider, and the provider's host nothing of the site.
    assert httpx.get(site_url + "/protected/json/app/details", timeout=5).status_code == 404
    assert httpx.get(site_url + "/authenticator/", timeout=5).status_code == 404
    assert httpx.get(deployment.url + "/login", timeout=5).status_code == 404


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)
    return dict(pairs)  # type: ignore[arg-type]


def test_site_runs_in_production_without_any_provider_secret(deployment: Deployed) -> None:
    site_env = _environ(deployment.state["site"]["pid"])
    assert site_env["TWOFA_ENV"] == "prod"
    assert len(site_env["TWOFA_SITE_SECRET_KEY"]) >= 32
    for provider_only in ("TWOFA_SECRET_KEY", "TWOFA_DATABASE_URL", "TWOFA_TWILIO_AUTH_TOKEN"):
        assert provider_only not in site_env, provider_only
    # Its database URL names its own role, which cannot open the provider's database.
    role = deployment.state["site_role"]
    assert f"//{role}:" in site_env["TWOFA_SITE_DATABASE_URL"]
    provider_db = deployment.state["databases"][0]
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        allowed = conn.execute(
            "SELECT has_database_privilege(%s, %s, 'CONNECT')", (role, provider_db)
        ).fetchone()
    assert allowed == (False,)
    # And the site works: its sign-up page renders and its password hint answers.
    assert httpx.get(deployment.state["site_url"] + "/sign-up", timeout=5).status_code == 200


def test_authenticator_answers_on_its_own_host_name(deployment: Deployed) -> None:
    host = "authenticator.localhost:" + str(deployment.state["port"])
    headers = {"Host": host}
    app = httpx.get(deployment.url + "/authenticator/", headers=headers, timeout=5)
    assert app.status_code == 200 and "text/html" in app.headers["content-type"]
    root = httpx.get(deployment.url + "/", headers=headers, timeout=5)
    assert root.status_code == 302 and root.headers["location"].endswith("/authenticator/")
    # Its device API is on its own origin too; the site and the Authy API are not.
    devices = httpx.get(deployment.url + "/device/v1/devices", headers=headers, timeout=5)
    assert devices.status_code in (400, 401)
    assert devices.headers["content-type"].startswith("application/json")
    assert httpx.get(deployment.url + "/login", headers=headers, timeout=5).status_code == 404
    api = httpx.get(deployment.url + "/protected/json/app/details", headers=headers, timeout=5)
    assert api.status_code == 404


def test_qr_links_reach_the_provider(deployment: Deployed) -> None:
    authy = AuthyApiClient(deployment.api_key, api_uri=deployment.url)
    user = authy.users.create("qr@example.com", new_phone(), 1)
    assert user.ok(), user.content
    response = httpx.post(
        f"{deployment.url}/protected/json/users/{user.id}/secret",
        headers={"X-Authy-API-Key": deployment.api_key},
        json={"label": "qr@example.com"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    link = response.json()["qr_code"]
    assert link.startswith(deployment.url + "/qr/")
    image = httpx.get(link, timeout=5)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


def test_metrics_only_from_loopback(deployment: Deployed) -> None:
    inside = httpx.get(deployment.url + "/metrics", timeout=5)
    assert inside.status_code == 200
    assert "twofa_http_requests_total" in inside.text
    # Another source address (127.0.0.2 reaches the loopback listener but is not allowed).
    port = deployment.state["port"]
    with socket.create_connection(
        ("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0)
    ) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status_line = sock.makefile("rb").readline().decode()
    assert status_line.split()[1] == "403"


def test_large_bodies_are_refused_by_nginx(deployment: Deployed) -> None:
    response = httpx.post(
        deployment.url + "/protected/json/users/new",
        headers={"X-Authy-API-Key": deployment.api_key},
        content=b"x" * (70 * 1024),
        timeout=5,
    )
    assert response.status_code == 413
    assert "x-request-id" not in response.headers  # refused before reaching any provider
