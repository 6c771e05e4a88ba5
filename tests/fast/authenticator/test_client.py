"""The CLI device's key file, state file and stream parser."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from twofa.authenticator import keys
from twofa.authenticator.device import Event, parse_sse
from twofa.authenticator.state import State, home


def test_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "device.pem"
    key = keys.generate()
    keys.save(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.public_jwk(keys.load(path)) == keys.public_jwk(key)
    with pytest.raises(FileExistsError):
        keys.save(keys.generate(), path)


def test_state_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOFA_AUTHENTICATOR_HOME", str(tmp_path / "a"))
    assert home() == tmp_path / "a"
    assert State.load() == State()
    State(provider_url="http://p", device_uuid="d").save()
    assert State.load() == State(provider_url="http://p", device_uuid="d")
    assert stat.S_IMODE((tmp_path / "a" / "state.json").stat().st_mode) == 0o600


def test_parse_sse() -> None:
    lines = [
        "retry: 3000",
        "",
        ": keep-alive",
        "",
        "id: 17",
        "event: request",
        'data: {"uuid": "a"}',
        "",
        "event: request.ended",
        'data: {"uuid": "a",',
        'data: "status": "approved"}',
        "",
    ]
    assert list(parse_sse(iter(lines))) == [
        Event("17", "request", {"uuid": "a"}),
        Event("17", "request.ended", {"uuid": "a", "status": "approved"}),
    ]
