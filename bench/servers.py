"""The provider under test: a subprocess on a loopback port with a fresh database."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twofa import process

# Rate limits high enough that a benchmark never meets them.
RELAXED_LIMITS = {
    f"TWOFA_LIMIT_{name.upper()}": "1000000/60"
    for name in (
        "verify_failures_per_user",
        "sms_per_phone",
        "sms_per_phone_total",
        "sms_per_app",
        "push_per_user",
        "phone_verifications_per_number",
        "device_registrations_per_number",
        "device_registrations_per_ip",
        "device_registrations_total",
    )
}


@dataclass
class Provider:
    """A provider process on a loopback port plus direct access to its services."""

    url: str
    proc: subprocess.Popen[bytes]
    services: Any  # twofa.provider.services.Services
    data_dir: Path
    log_path: Path
    env: dict[str, str]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        process.stop(self.proc)
        self.services.close()


@contextlib.contextmanager
def provider(
    extra_env: dict[str, str] | None = None, *, database_url: str | None = None
) -> Iterator[Provider]:
    """Start ``twofa provider`` on a free loopback port with a fresh SQLite database.

    The database is migrated first; the process is stopped and its data removed on exit.
    """
    from twofa.provider.services import build_services
    from twofa.settings import load_settings
    from twofa.storage.engine import upgrade

    data_dir = Path(tempfile.mkdtemp(prefix="twofa-bench-"))
    database_url = database_url or f"sqlite:///{data_dir / 'provider.db'}"
    upgrade(database_url)
    port = process.free_port()
    defaults = {
        "TWOFA_ENV": "test",
        "TWOFA_SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        "TWOFA_DATA_DIR": str(data_dir),
        "TWOFA_DATABASE_URL": database_url,
        "TWOFA_CALLBACK_ALLOW_PRIVATE": "true",  # the callback sink listens on loopback
    }
    env = process.clean_env(**{**defaults, **(extra_env or {})})
    log_path = data_dir / f"provider-{port}.log"
    url = f"http://127.0.0.1:{port}"
    proc = process.start(
        process.twofa_command("provider", "--port", str(port), "--no-migrate"),
        url + "/healthz",
        env=env,
        log_path=log_path,
        timeout=30,
        ok=process.healthy,
    )
    overrides = {k[len("TWOFA_") :].lower(): v for k, v in env.items() if k.startswith("TWOFA_")}
    services = build_services(load_settings(**overrides))
    running = Provider(url, proc, services, data_dir, log_path, env)
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
