"""``twofa users import`` as a person runs it: a progress bar on a terminal, none in a pipe."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.servers import provider_env, run_cli
from twofa.process import twofa_command
from twofa.storage.engine import upgrade

ROWS = 12_000


def on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run with standard error on a pseudo-terminal: (status, stdout, what the terminal got)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed the terminal's last descriptor
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    return proc.wait(timeout=120), stdout, seen.decode(errors="replace")


def test_progress_shows_on_a_terminal_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'provider.db'}"
    upgrade(url)
    env = provider_env(tmp_path, url)
    app_id = json.loads(run_cli("apps", "create", "Shop", "--json", env=env).stdout)["app_id"]
    path = tmp_path / "users.csv"
    rows = [f"{500_000_000 + n},u{n}@example.com,1,201-7{n // 10000:02d}-{n % 10000:04d}"
            for n in range(ROWS)]  # fmt: skip
    path.write_text("authy_id,email,country_code,phone\n" + "\n".join(rows) + "\n")
    command = twofa_command("users", "import", str(app_id), str(path))

    status, stdout, terminal = on_a_terminal(command, env)
    assert status == 0, terminal
    assert "Checking the file" in terminal and "Importing" in terminal and "100%" in terminal
    assert f"{ROWS:,} users created" in stdout

    piped = run_cli("users", "import", str(app_id), str(path), env=env)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""  # no bar, no label: nothing but the report on stdout
    assert f"0 users created, {ROWS:,} already imported" in piped.stdout
