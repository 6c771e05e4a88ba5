"""Where the CLI device keeps its state: ``$TWOFA_AUTHENTICATOR_HOME``.

Default ``~/.config/twofa/authenticator``. ``state.json`` holds the provider URL, the device
uuid and a pending registration id; ``device.pem`` holds the private key (mode 0600).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

STATE_FILE = "state.json"
KEY_FILE = "device.pem"


def home() -> Path:
    """The authenticator's directory, from the environment or the XDG-style default."""
    configured = os.environ.get("TWOFA_AUTHENTICATOR_HOME")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".config" / "twofa" / "authenticator"


@dataclass
class State:
    """What the CLI remembers between commands."""

    provider_url: str | None = None
    device_uuid: str | None = None
    registration_id: str | None = None
    phone: str | None = None

    @classmethod
    def load(cls, directory: Path | None = None) -> State:
        path = (directory or home()) / STATE_FILE
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def save(self, directory: Path | None = None) -> None:
        """Write atomically (temp file + rename), owner-only like the key beside it."""
        base = directory or home()
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = base / (STATE_FILE + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(self), handle, indent=2)
        tmp.replace(base / STATE_FILE)


def key_path(directory: Path | None = None) -> Path:
    return (directory or home()) / KEY_FILE
