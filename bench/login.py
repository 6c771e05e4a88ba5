"""Full logins on the site: password, push approved by a scripted device, browser told live.

A provider and ``twofa site`` (waitress) run on loopback ports. Each simulated browser is its own
HTTP client with its own cookies: it fetches ``/login``, posts e-mail and password, loads
``/login/wait`` (the number to pick), opens the ``/login/events`` stream, and when the stream says
``approved`` posts ``/login/complete`` and loads ``/account``. Each user has one scripted device
(``twofa.authenticator.device``, a real P-256 key registered through the device API) that reads
its pending request and approves it with the number the page shows.

Phases:

* **latency** — ``--concurrency`` browsers at a time; the device approves after a random "human"
  delay (0.5 to 2.5 s), and next to the event stream a poller asks ``/login/status`` every 2 s the
  way the tutorial's page did. Both are timed from the moment the device's approve call starts:
  approve → event on the stream, and approve → first poll that says approved.
* **throughput** — ``--login-workers`` browsers log in back to back with no delay: logins/s.
* **argon2id** — the same number of threads hash-verifying with the site's password parameters
  for ``--argon-seconds``: the most logins per second this machine's CPU allows, since each login
  costs one verification.

* **crowd** — ``--crowd`` browsers (200) log in and wait at once, each opening the event
  stream as ``wait.js`` does and polling ``/login/status`` every 2 s when the site's stream budget
  refuses it; meanwhile other visitors load ``/`` back to back. Then every device approves.

Goals: approve → browser p99 <= 100 ms; logins/s >= 80% of the Argon2id rate; during the crowd
phase ``GET /`` p99 <= 300 ms and every waiting browser learns of its approval.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import ssl
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
import phonenumbers

from bench.report import print_table
from bench.servers import RELAXED_LIMITS, Provider, provider
from bench.stats import percentile
from bench.usage import CpuMeter
from twofa import process
from twofa.authenticator.device import DeviceClient, _raise_for, parse_sse
from twofa.process import free_port

DESCRIPTION = "full logins (password + push approved by a device): live stream vs 2 s polling"
GOAL_P99_MS = 100.0
GOAL_PAGE_P99_MS = 300.0
GOAL_RATIO = 0.8
POLL_SECONDS = 2.0
HUMAN_DELAY = (0.5, 2.5)
PASSWORD = "bench password 0123456789"  # noqa: S105 (the bench users' password)
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
NUMBER = re.compile(r'<p class="match-number"[^>]*>(\d+)</p>')
# Building an httpx client loads the CA bundle (~25 ms of CPU); every client here shares one
# context instead, so the load generator takes less CPU from the servers on the same machine.
TLS = ssl.create_default_context()


def http_client(base_url: str, timeout: float = 30, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=timeout, verify=TLS, **kwargs)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("login")
    group.add_argument(
        "--login-count",
        type=int,
        default=240,
        help="logins in each of the latency and throughput phases (default 240, at least 200)",
    )
    group.add_argument(
        "--login-workers",
        type=int,
        default=0,
        help="browsers logging in back to back in the throughput phase, and Argon2id threads "
        "(default: 2 x CPUs)",
    )
    group.add_argument(
        "--crowd", type=int, default=200, help="browsers waiting at once (default 200)"
    )
    group.add_argument(
        "--argon-seconds",
        type=float,
        default=5.0,
        help="duration of the Argon2id baseline (default 5)",
    )


# The site process ----------------------------------------------------------------------------


@dataclass
class Site:
    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        process.stop(self.proc)


@contextlib.contextmanager
def site(running: Provider, threads: int) -> Iterator[Site]:
    """``twofa site`` on a free port, with its own application at ``running``."""
    data_dir = Path(tempfile.mkdtemp(prefix="twofa-bench-site-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    created = running.services.apps.create(
        f"bench login {secrets.token_hex(3)}", callback_url=f"{url}/authy/callback"
    )
    env = process.clean_env(
        TWOFA_ENV="test",
        TWOFA_SECRET_KEY="bench-" + secrets.token_urlsafe(40),
        TWOFA_DATA_DIR=str(data_dir),
        TWOFA_SITE_PROVIDER_URL=running.url,
        TWOFA_SITE_API_KEY=created.api_key,
        TWOFA_SITE_PUBLIC_URL=url,
        TWOFA_SITE_DATABASE_URL=f"sqlite:///{data_dir / 'site.db'}",
        TWOFA_SITE_THREADS=str(threads),
        TWOFA_SITE_MAX_STREAMS=str(threads - 8),
        TWOFA_SITE_RESEND_COOLDOWN="0",
        TWOFA_SITE_SIGNUP_LIMIT_IP="100000/3600",  # every bench user signs up from 127.0.0.1
    )
    log_path = data_dir / f"site-{port}.log"
    proc = process.start(
        process.twofa_command("site", "--port", str(port)),
        url + "/",
        env=env,
        log_path=log_path,
        cwd=data_dir,
        timeout=30,
        ok=process.healthy,
    )
    running_site = Site(url, proc, log_path)
    try:
        yield running_site
    finally:
        running_site.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


# Users and their devices ---------------------------------------------------------------------


@dataclass
class User:
    email: str
    phone: str
    device: DeviceClient
    lock: threading.Lock = field(default_factory=threading.Lock)


def _phone(n: int) -> str:
    while True:
        candidate = f"201-{200 + secrets.randbelow(800):03d}-{n % 10000:04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate, "US")):
            return candidate
        n += 1


def _last_code(running: Provider, phone: str, digits: int) -> str:
    e164 = "+1" + re.sub(r"\D", "", phone)
    for message in reversed(running.services.messaging.list(to=e164)):
        found = re.search(rf"\b(\d{{{digits}}})\b", message.body)
        if found:
            return found.group(1)
    raise RuntimeError(f"no {digits}-digit code sent to {e164}")


def _csrf(response: httpx.Response) -> str:
    found = CSRF.search(response.text)
    if not found:
        raise RuntimeError(f"no CSRF token in {response.request.url} ({response.status_code})")
    return found.group(1)


def _expect_redirect(response: httpx.Response, target: str) -> None:
    location = response.headers.get("location", "")
    if response.status_code not in (302, 303) or not location.endswith(target):
        shown = re.findall(r'<p class="(?:error|flash[^"]*)"[^>]*>([^<]+)</p>', response.text)
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: expected a redirect to "
            f"{target}, got {response.status_code} {location!r} {' '.join(shown)[:200]}"
        )


def make_user(running: Provider, site_url: str, n: int) -> User:
    """Sign up on the site (phone confirmed by its code), then register a device for the phone."""
    from twofa.authenticator import keys
    from twofa.authenticator.device import confirm_registration, start_registration

    email, phone = f"bench{n}-{secrets.token_hex(3)}@bench.example", _phone(n)
    with http_client(site_url) as browser:
        token = _csrf(browser.get("/sign-up"))
        form = {"csrf_token": token, "full_name": f"Bench {n}", "email": email,
                "password": PASSWORD, "region": "US", "phone": phone}  # fmt: skip
        _expect_redirect(browser.post("/sign-up", data=form), "/sign-up/confirm")
        page = browser.get("/sign-up/confirm")
        code = _last_code(running, phone, 6)
        answer = browser.post("/sign-up/confirm", data={"csrf_token": _csrf(page), "code": code})
        _expect_redirect(answer, "/account")
    registration = start_registration(running.url, country_code="1", phone_number=phone)
    key = keys.generate()
    device = confirm_registration(
        running.url,
        registration.registration_id,
        code=_last_code(running, phone, 6),
        name=f"bench device {n}",
        os_type="cli",
        public_key=keys.public_jwk(key),
    )
    return User(email, phone, KeepAliveDevice(running.url, device["uuid"], key))


class KeepAliveDevice(DeviceClient):
    """The library's device over one keep-alive connection, as a phone app keeps it.

    ``DeviceClient.call`` opens a new client per request (a CA bundle load and a TCP connect);
    a phone pays that on its own CPU, the load generator here would pay it on the servers' cores.
    """

    def __init__(self, provider_url: str, device_uuid: str, key: Any) -> None:
        super().__init__(provider_url, device_uuid, key, timeout=30)
        self._http = http_client(provider_url)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        headers = self.signed_headers(method, path, raw)
        return _raise_for(self._http.request(method, path, content=raw, headers=headers))


# One login -----------------------------------------------------------------------------------


@dataclass
class LoginResult:
    ok: bool
    seconds: float = 0.0  # the whole login, /login to /account
    stream_ms: float | None = None  # approve call start -> approved event read from the stream
    stream_after_call_ms: float | None = None  # approve call returned -> approved event
    approve_call_ms: float | None = None
    poll_ms: float | None = None  # approve call start -> first poll answering approved
    error: str = ""


def _poll(client: httpx.Client, stop: threading.Event, seen: list[float]) -> None:
    """The tutorial's page: ask /login/status, wait 2 s after each answer, until approved."""
    while not stop.is_set():
        try:
            body = client.get("/login/status").json()
        except (httpx.HTTPError, ValueError):
            body = {}
        if body.get("status") == "approved":
            seen.append(time.perf_counter())
            return
        if body.get("status") not in (None, "pending"):
            return
        stop.wait(POLL_SECONDS)


def login(site_url: str, user: User, *, human_delay: bool, poll: bool) -> LoginResult:
    started = time.perf_counter()
    result = LoginResult(ok=False)
    stop = threading.Event()
    poller: threading.Thread | None = None
    seen: list[float] = []
    try:
        with http_client(site_url) as browser, user.lock:
            form = {"csrf_token": _csrf(browser.get("/login")), "email": user.email,
                    "password": PASSWORD, "next": ""}  # fmt: skip
            _expect_redirect(_post_login(browser, form), "/login/wait")
            page = browser.get("/login/wait")
            number = NUMBER.search(page.text)
            token = _csrf(page)
            if poll:
                poll_client = http_client(site_url, cookies=browser.cookies)
                poller = threading.Thread(target=_poll, args=(poll_client, stop, seen))
                poller.start()
            with browser.stream("GET", "/login/events") as stream:
                events = _statuses(stream.iter_lines())
                first = next(events)  # the stream is subscribed once it reports the status
                if first != "pending":
                    raise RuntimeError(f"stream began with {first!r}")
                if human_delay:
                    time.sleep(random.uniform(*HUMAN_DELAY))
                request = user.device.pending()[-1]  # the newest: this login's
                t0 = time.perf_counter()
                decided = user.device.decide(
                    request.uuid, approve=True, number=int(number.group(1)) if number else None
                )
                t1 = time.perf_counter()
                if decided != "approved":
                    raise RuntimeError(f"the provider recorded {decided!r}")
                state = next(events)
                t2 = time.perf_counter()
                if state != "approved":
                    raise RuntimeError(f"stream said {state!r}")
            result.approve_call_ms = (t1 - t0) * 1000
            result.stream_ms = (t2 - t0) * 1000
            result.stream_after_call_ms = (t2 - t1) * 1000
            if poller is not None:
                poller.join(POLL_SECONDS * 3)
                if seen:
                    result.poll_ms = (seen[0] - t0) * 1000
                else:
                    raise RuntimeError("the poller never saw the approval")
            done = browser.post("/login/complete", data={"csrf_token": token})
            _expect_redirect(done, "/account")
            account = browser.get("/account")
            if account.status_code != 200 or "Hello, Bench" not in account.text:
                raise RuntimeError(f"/account answered {account.status_code}")
        result.ok = True
    except Exception as exc:  # counted and reported, the run goes on
        result.error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        stop.set()
        if poller is not None:
            poller.join(5)
        result.seconds = time.perf_counter() - started
    return result


def _post_login(browser: httpx.Client, form: dict[str, str]) -> httpx.Response:
    """POST /login, pressing again while the site says its password checks are all queued."""
    answer = browser.post("/login", data=form)
    while answer.status_code == 503:
        time.sleep(float(answer.headers.get("retry-after", "2")))
        answer = browser.post("/login", data=form)
    return answer


def _statuses(lines: Iterator[str]) -> Iterator[str]:
    for event in parse_sse(lines):
        if event.event == "status":
            yield str(event.data.get("status"))


# Phases --------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    workers: int
    results: list[LoginResult]
    seconds: float
    cpu: dict[str, float | None]

    @property
    def ok(self) -> list[LoginResult]:
        return [r for r in self.results if r.ok]

    @property
    def rate(self) -> float:
        return len(self.ok) / self.seconds if self.seconds else 0.0

    def values(self, name: str) -> list[float]:
        return [v for r in self.ok if (v := getattr(r, name)) is not None]

    def summary(self) -> dict[str, Any]:
        def stats(name: str) -> dict[str, float]:
            values = self.values(name)
            return {
                "p50": percentile(values, 50),
                "p99": percentile(values, 99),
                "max": max(values) if values else float("nan"),
                "n": len(values),
            }

        errors: dict[str, int] = {}
        for r in self.results:
            if not r.ok:
                errors[r.error] = errors.get(r.error, 0) + 1
        return {
            "workers": self.workers,
            "logins": len(self.results),
            "ok": len(self.ok),
            "seconds": round(self.seconds, 2),
            "logins_per_second": round(self.rate, 2),
            "login_seconds_p50": percentile(self.values("seconds"), 50),
            "stream_ms": stats("stream_ms"),
            "stream_after_call_ms": stats("stream_after_call_ms"),
            "approve_call_ms": stats("approve_call_ms"),
            "poll_ms": stats("poll_ms"),
            "cpu_cores": self.cpu,
            "errors": errors,
        }


def run_phase(
    name: str,
    site_url: str,
    users: list[User],
    *,
    count: int,
    workers: int,
    human_delay: bool,
    poll: bool,
    pids: dict[str, int],
) -> Phase:
    """``count`` logins by ``workers`` threads, each thread its own user, back to back."""
    print(f"  {name}: {count} logins, {workers} at a time ...", flush=True)
    meters = {label: CpuMeter(pid) for label, pid in pids.items()}
    for meter in meters.values():
        meter.start()
    remaining = iter(range(count))
    lock = threading.Lock()
    results: list[LoginResult] = []

    def worker(user: User) -> None:
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            outcome = login(site_url, user, human_delay=human_delay, poll=poll)
            with lock:
                results.append(outcome)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, users[:workers]))
    elapsed = time.perf_counter() - started
    cpu = {label: meter.stop() for label, meter in meters.items()}
    return Phase(name, workers, results, elapsed, cpu)


def argon_rate(threads: int, seconds: float, memory_kib: int) -> dict[str, Any]:
    """Argon2id verifications per second on ``threads`` threads with the site's parameters."""
    from twofa.site.passwords import Passwords

    passwords = Passwords(memory_kib=memory_kib)
    stored = passwords.hash(PASSWORD)
    passwords.verify(stored, PASSWORD)  # warm up
    counts = [0] * threads
    stop = threading.Event()

    def loop(index: int) -> None:
        while not stop.is_set():
            if not passwords.verify(stored, PASSWORD):
                raise RuntimeError("Argon2id verification failed")
            counts[index] += 1

    cpu0 = time.process_time()
    started = time.perf_counter()
    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    total = sum(counts)
    params = passwords._hasher  # report the exact parameters used
    return {
        "threads": threads,
        "seconds": round(elapsed, 2),
        "verifications": total,
        "per_second": total / elapsed,
        "cpu_ms_per_verification": cpu / total * 1000 if total else float("nan"),
        "parameters": {
            "type": "argon2id",
            "time_cost": params.time_cost,
            "memory_kib": params.memory_cost,
            "parallelism": params.parallelism,
        },
    }


class _Gate:
    """Every browser reports in (waiting, or failed) before any device approves."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.arrived = 0
        self.lock = threading.Lock()
        self.open = threading.Event()

    def arrive(self) -> None:
        with self.lock:
            self.arrived += 1
            if self.arrived >= self.expected:
                self.open.set()


def _wait_like_wait_js(site_url: str, user: User, gate: _Gate) -> tuple[str, float]:
    """One browser on /login/wait: the stream if the site grants one, else polling every 2 s.

    Returns how it learnt (``stream``/``poll``) and approve call start -> the browser knows.
    """
    arrived = False
    try:
        # A patient browser: on a loaded machine 200 password checks take a while to drain.
        with http_client(site_url, timeout=180) as browser, user.lock:
            form = {"csrf_token": _csrf(browser.get("/login")), "email": user.email,
                    "password": PASSWORD, "next": ""}  # fmt: skip
            _expect_redirect(_post_login(browser, form), "/login/wait")
            page = browser.get("/login/wait")
            number = NUMBER.search(page.text)
            chosen = int(number.group(1)) if number else None
            with browser.stream("GET", "/login/events") as stream:
                streaming = stream.status_code == 200
                events = _statuses(stream.iter_lines()) if streaming else iter(())
                if streaming and next(events) != "pending":
                    raise RuntimeError("stream did not begin pending")
                arrived = True
                gate.arrive()
                gate.open.wait()  # every browser is waiting now
                request = user.device.pending()[-1]
                t0 = time.perf_counter()
                user.device.decide(request.uuid, approve=True, number=chosen)
                if streaming:
                    if next(events) != "approved":
                        raise RuntimeError("stream did not say approved")
                else:  # wait.js: poll every 2 s, at a random phase against the approval
                    time.sleep(random.uniform(0, POLL_SECONDS))
                    while browser.get("/login/status").json().get("status") != "approved":
                        time.sleep(POLL_SECONDS)
                known = (time.perf_counter() - t0) * 1000
            done = browser.post("/login/complete", data={"csrf_token": _csrf(page)})
            _expect_redirect(done, "/account")
    finally:
        if not arrived:
            gate.arrive()
    return ("stream" if streaming else "poll"), known


def crowd_phase(site_url: str, users: list[User]) -> dict[str, Any]:
    """``len(users)`` browsers wait at once while visitors load ``/``; then all are approved."""
    print(f"  crowd: {len(users)} browsers waiting at once, visitors loading / ...", flush=True)
    page_times: list[float] = []
    page_failures: list[str] = []
    stop = threading.Event()

    def visitor() -> None:
        with http_client(site_url) as client:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    status = client.get("/").status_code
                except httpx.HTTPError as exc:
                    status, took = 0, type(exc).__name__
                if status == 200:
                    page_times.append((time.perf_counter() - t0) * 1000)
                else:
                    page_failures.append(took if status == 0 else str(status))
                stop.wait(0.05)

    gate = _Gate(len(users))
    visitors = [threading.Thread(target=visitor) for _ in range(4)]
    for thread in visitors:
        thread.start()
    outcomes: list[tuple[str, float] | str] = []
    try:
        with ThreadPoolExecutor(len(users)) as pool:
            futures = [pool.submit(_wait_like_wait_js, site_url, u, gate) for u in users]
            for future in futures:
                try:
                    outcomes.append(future.result())
                except Exception as exc:  # counted and reported
                    outcomes.append(f"{type(exc).__name__}: {exc}"[:200])
    finally:
        stop.set()
        for thread in visitors:
            thread.join()
    known = [o for o in outcomes if isinstance(o, tuple)]
    by_mode = {mode: [ms for m, ms in known if m == mode] for mode in ("stream", "poll")}
    return {
        "browsers": len(users),
        "ok": len(known),
        "errors": sorted({o for o in outcomes if isinstance(o, str)}),
        "page_failures": len(page_failures),
        "page_ms": {"p50": percentile(page_times, 50), "p99": percentile(page_times, 99),
                    "max": max(page_times, default=float("nan")), "n": len(page_times)},
        **{f"{mode}_ms": {"n": len(v), "p50": percentile(v, 50), "p99": percentile(v, 99)}
           for mode, v in by_mode.items()},
    }  # fmt: skip


# Run -----------------------------------------------------------------------------------------


def run(options: argparse.Namespace) -> dict[str, Any]:
    from twofa.settings import load_settings

    count = max(1, int(options.login_count))
    cpus = os.cpu_count() or 1
    workers = options.login_workers or 2 * cpus
    concurrency = max(1, int(options.concurrency))
    memory_kib = load_settings(env="test", secret_key="x" * 40).site_password_memory_kib

    print(f"argon2id baseline: {workers} threads for {options.argon_seconds:.0f} s ...", flush=True)
    argon = argon_rate(workers, float(options.argon_seconds), memory_kib)

    threads = max(32, 2 * max(concurrency, workers) + 8)  # an open stream holds a site thread
    with provider(RELAXED_LIMITS) as running, site(running, threads) as web:
        t0 = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            wanted = max(concurrency, workers, int(options.crowd))
            users = list(pool.map(lambda n: make_user(running, web.url, n), range(wanted)))
        print(
            f"provider {running.url}, site {web.url} ({threads} threads); {len(users)} users "
            f"signed up with a device each in {time.monotonic() - t0:.1f} s",
            flush=True,
        )
        pids = {"site": web.proc.pid, "provider": running.pid, "client": os.getpid()}
        if options.warmup > 0:
            run_phase("warmup", web.url, users, count=2 * workers, workers=workers,
                      human_delay=False, poll=False, pids={})  # fmt: skip
        latency = run_phase("latency (stream + 2 s poller, human delay)", web.url, users,
                            count=count, workers=concurrency, human_delay=True, poll=True,
                            pids=pids)  # fmt: skip
        throughput = run_phase("throughput (back to back)", web.url, users, count=count,
                               workers=workers, human_delay=False, poll=False,
                               pids=pids)  # fmt: skip
        crowd = crowd_phase(web.url, users[: int(options.crowd)]) if options.crowd else None

    phases = {"latency": latency, "throughput": throughput}
    summaries = {key: phase.summary() for key, phase in phases.items()}
    headers = ["phase", "workers", "ok/logins", "logins/s", "login p50 s", "stream p50 ms",
               "stream p99 ms", "stream max ms", "poll p50 ms", "poll p99 ms", "approve call p50",
               "site cpu", "provider cpu", "client cpu"]  # fmt: skip
    rows = []
    for key, phase in phases.items():
        s = summaries[key]
        rows.append([
            key, phase.workers, f"{s['ok']}/{s['logins']}", s["logins_per_second"],
            s["login_seconds_p50"], s["stream_ms"]["p50"], s["stream_ms"]["p99"],
            s["stream_ms"]["max"], s["poll_ms"]["p50"], s["poll_ms"]["p99"],
            s["approve_call_ms"]["p50"],
            *(None if phase.cpu.get(k) is None else f"{phase.cpu[k]:.2f}"
              for k in ("site", "provider", "client")),
        ])  # fmt: skip
    rows.append([
        f"argon2id verify (t={argon['parameters']['time_cost']}, "
        f"{argon['parameters']['memory_kib'] // 1024} MiB)",
        workers, f"{argon['verifications']}", round(argon["per_second"], 2),
        None, None, None, None, None, None, None, None, None, None,
    ])  # fmt: skip
    if crowd is not None:
        rows.append([
            f"crowd ({crowd['stream_ms']['n']} streamed, {crowd['poll_ms']['n']} polled)",
            crowd["browsers"], f"{crowd['ok']}/{crowd['browsers']}", None, None,
            crowd["stream_ms"]["p50"], crowd["stream_ms"]["p99"], None, crowd["poll_ms"]["p50"],
            crowd["poll_ms"]["p99"], None, None, None, None,
        ])  # fmt: skip
        print(
            f"crowd: GET / p50 {crowd['page_ms']['p50']:.0f} ms, p99 "
            f"{crowd['page_ms']['p99']:.0f} ms, max {crowd['page_ms']['max']:.0f} ms "
            f"({crowd['page_ms']['n']} pages) while {crowd['browsers']} browsers waited"
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print_table(
        f"login: {count} logins per phase on {cpus} CPUs (load average now {load}); "
        "stream/poll = approve call start -> the browser knows; cpu in cores",
        headers,
        rows,
    )

    ratio = throughput.rate / argon["per_second"] if argon["per_second"] else 0.0
    checks = {
        f"latency phase: approve -> stream p99 <= {GOAL_P99_MS:.0f} ms": (
            summaries["latency"]["stream_ms"]["p99"] <= GOAL_P99_MS
        ),
        f"throughput phase: approve -> stream p99 <= {GOAL_P99_MS:.0f} ms": (
            summaries["throughput"]["stream_ms"]["p99"] <= GOAL_P99_MS
        ),
        f"logins/s >= {GOAL_RATIO:.0%} of the Argon2id rate ({ratio:.0%})": ratio >= GOAL_RATIO,
        "no failed logins": all(len(p.ok) == len(p.results) for p in phases.values()),
    }
    if crowd is not None:
        checks[f"crowd phase: GET / p99 <= {GOAL_PAGE_P99_MS:.0f} ms, none failed"] = (
            crowd["page_ms"]["p99"] <= GOAL_PAGE_P99_MS and not crowd["page_failures"]
        )
        checks["crowd phase: every waiting browser learnt of its approval"] = (
            crowd["ok"] == crowd["browsers"]
        )
    print(
        f"\nGoal: approve -> browser p99 <= {GOAL_P99_MS:.0f} ms; logins/s >= "
        f"{GOAL_RATIO:.0%} of Argon2id verifications/s on {workers} threads"
    )
    for check, ok in checks.items():
        print(f"  {'PASS' if ok else 'MISS'}  {check}")

    # What limits it: CPU per login, by process, against the cost of the hash alone.
    notes = []
    result_extra: dict[str, Any] = {}
    if throughput.rate:
        per_login = {
            k: (v / throughput.rate * 1000 if v is not None else None)
            for k, v in throughput.cpu.items()
        }
        total = sum(v for v in per_login.values() if v is not None)
        argon_ms = argon["cpu_ms_per_verification"]
        result_extra["cpu_ms_per_login"] = per_login
        result_extra["cpu_normalized_ratio"] = round(argon_ms / total, 3) if total else None
        notes.append(
            "CPU per login in the throughput phase: "
            + ", ".join(f"{k} {v:.0f} ms" for k, v in per_login.items() if v is not None)
            + f" (total {total:.0f} ms; one Argon2id verification alone costs {argon_ms:.0f} ms)"
        )
        busy = sum(v for v in throughput.cpu.values() if v is not None)
        notes.append(
            f"the three processes kept {busy:.2f} of {cpus} cores busy; the CPU limit for "
            f"logins is {cpus / total * 1000:.1f}/s at this cost per login"
            if total
            else "no CPU figures"
        )
        if total:
            notes.append(
                f"CPU-normalized (independent of what else runs on the machine): the hash is "
                f"{argon_ms / total:.0%} of a login's CPU; the rate ratio above compares two "
                "moments whose spare CPU may differ"
            )
    polled = summaries["latency"]["poll_ms"]
    streamed = summaries["latency"]["stream_ms"]
    if polled["n"] and streamed["n"]:
        notes.append(
            f"2 s polling adds {polled['p50']:.0f} ms (p50) / {polled['p99']:.0f} ms (p99) after "
            f"approval; the stream {streamed['p50']:.0f} / {streamed['p99']:.0f} ms"
        )
    for phase in phases.values():
        for error, n in phase.summary()["errors"].items():
            notes.append(f"{phase.name}: {n} x {error}")
    if count < 200:
        notes.append(f"only {count} logins per phase: percentiles are rough below 200")
    for note in notes:
        print(f"  note: {note}")

    return {
        "count": count,
        "workers": workers,
        "concurrency": concurrency,
        "site_threads": threads,
        "argon2id": argon,
        "phases": summaries,
        "crowd": crowd,
        "ratio": round(ratio, 3),
        "goal": {"p99_ms": GOAL_P99_MS, "ratio": GOAL_RATIO},
        "checks": checks,
        "notes": notes,
        "pass": all(checks.values()),
        **result_extra,
    }
