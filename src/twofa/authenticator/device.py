"""A small client for the device API (docs/device-api.md) that signs every request.

Results are typed dataclasses; any refusal is a ``DeviceApiError`` carrying the provider's
HTTP status, Authy-style ``error_code`` and message.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from twofa.authenticator.keys import sign

STREAM_READ_TIMEOUT = 45.0  # three missed heartbeats: the connection is dead


class DeviceApiError(Exception):
    """The provider refused a request (or could not be reached: status 0)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Registration:
    registration_id: str
    seconds_to_expire: int


@dataclass(frozen=True, slots=True)
class Account:
    app_name: str
    authy_id: int
    secret: str
    digits: int
    period: int
    algorithm: str


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    uuid: str
    app_name: str
    authy_id: int
    message: str
    details: dict[str, str]
    logos: list[dict[str, str]]
    created_at: int
    expires_at: int | None
    status: str
    numbers: list[int] | None
    number_matching: bool = False  # approve with the number the login page shows

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApprovalRequest:
        return cls(
            uuid=data["uuid"],
            app_name=data["app_name"],
            authy_id=data["authy_id"],
            message=data["message"],
            details=data.get("details") or {},
            logos=data.get("logos") or [],
            created_at=data["created_at"],
            expires_at=data.get("expires_at"),
            status=data["status"],
            numbers=data.get("numbers"),
            number_matching=bool(data.get("number_matching")),
        )


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    uuid: str
    name: str
    os_type: str
    created_at: int
    last_seen_at: int | None
    current: bool


@dataclass(frozen=True, slots=True)
class PendingDevice:
    """A further device of this phone asking to join; approve it by typing its number."""

    uuid: str
    name: str
    os_type: str
    registered_from: str | None
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class Event:
    """One Server-Sent Event from ``/device/v1/events``."""

    id: str | None
    event: str
    data: dict[str, Any]


def decision_text(uuid: str, status: str, signing_time: int, number: int | None) -> bytes:
    """``uuid|approved|time`` or ``uuid|denied|time``, with ``|number`` when one was chosen."""
    text = f"{uuid}|{status}|{signing_time}"
    if number is not None:
        text += f"|{number}"
    return text.encode()


def signed_host(netloc: str) -> str:
    """The host name the signature covers: lower case, no user info, no port."""
    host = netloc.rpartition("@")[2].lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.partition(":")[0]


def request_text(
    method: str, host: str, target: str, device: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    """``METHOD\\nHOST\\nPATH?QUERY\\nDEVICE\\nTIMESTAMP\\nNONCE\\nhex(sha256(body))``."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((method, host, target, device, timestamp, nonce, digest)).encode()


def _raise_for(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200 and isinstance(body, dict) and body.get("success") is True:
        return body
    if isinstance(body, dict):
        raise DeviceApiError(
            response.status_code,
            str(body.get("error_code", "")),
            str(body.get("message", "request refused")),
        )
    raise DeviceApiError(response.status_code, "", f"unexpected HTTP {response.status_code}")


def _post(url: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        return _raise_for(httpx.post(url, json=body, timeout=timeout))
    except httpx.HTTPError as exc:
        raise DeviceApiError(0, "", f"cannot reach the provider: {exc}") from exc


def start_registration(
    provider_url: str,
    *,
    country_code: str,
    phone_number: str,
    via: str = "sms",
    timeout: float = 10.0,
) -> Registration:
    """Ask the provider to send a registration code to the phone."""
    body = _post(
        f"{provider_url.rstrip('/')}/device/v1/registrations",
        {"country_code": country_code, "phone_number": phone_number, "via": via},
        timeout,
    )
    return Registration(body["registration_id"], body["seconds_to_expire"])


def confirm_registration(
    provider_url: str,
    registration_id: str,
    *,
    code: str,
    name: str,
    os_type: str,
    public_key: dict[str, str],
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Send the code with the device's public key; returns the new device."""
    body = _post(
        f"{provider_url.rstrip('/')}/device/v1/registrations/{registration_id}/confirm",
        {"code": code, "name": name, "os_type": os_type, "public_key": public_key},
        timeout,
    )
    device: dict[str, Any] = body["device"]
    if "approval" in body:  # a further device of the phone: it shows this number
        device["approval"] = body["approval"]
    return device


class DeviceClient:
    """Signed calls on behalf of one registered device."""

    def __init__(
        self,
        provider_url: str,
        device_uuid: str,
        key: ec.EllipticCurvePrivateKey,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._base = provider_url.rstrip("/")
        self._prefix = urlsplit(self._base).path
        self._host = signed_host(urlsplit(self._base).netloc)
        self.device_uuid = device_uuid
        self._key = key
        self._timeout = timeout
        self._http: httpx.Client | None = None

    def _client(self) -> httpx.Client:
        """One connection pool for the client's life: building a client (and its TLS context)
        per call costs more than the call itself."""
        if self._http is None:
            self._http = httpx.Client(timeout=self._timeout)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> DeviceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def signed_headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        """The four signature headers for one request to ``path`` (query included)."""
        timestamp = str(int(time.time()))
        nonce = secrets.token_urlsafe(18)
        text = request_text(
            method, self._host, self._prefix + path, self.device_uuid, timestamp, nonce, body
        )
        headers = {
            "X-Twofa-Device": self.device_uuid,
            "X-Twofa-Timestamp": timestamp,
            "X-Twofa-Nonce": nonce,
            "X-Twofa-Signature": sign(self._key, text),
        }
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One signed request; the decoded success body, or ``DeviceApiError``."""
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        try:
            response = self._client().request(
                method,
                self._base + path,
                content=raw,
                headers=self.signed_headers(method, path, raw),
            )
        except httpx.HTTPError as exc:
            raise DeviceApiError(0, "", f"cannot reach the provider: {exc}") from exc
        return _raise_for(response)

    def me(self) -> dict[str, Any]:
        return self.call("GET", "/device/v1/me")

    def accounts(self) -> list[Account]:
        return [Account(**a) for a in self.call("GET", "/device/v1/accounts")["accounts"]]

    def pending(self) -> list[ApprovalRequest]:
        body = self.call("GET", "/device/v1/requests")
        return [ApprovalRequest.from_json(r) for r in body["requests"]]

    def history(self) -> list[ApprovalRequest]:
        body = self.call("GET", "/device/v1/history")
        return [ApprovalRequest.from_json(r) for r in body["requests"]]

    def request(self, uuid: str) -> ApprovalRequest:
        body = self.call("GET", f"/device/v1/requests/{uuid}")
        return ApprovalRequest.from_json(body["request"])

    def decide(
        self,
        uuid: str,
        *,
        approve: bool,
        number: int | None = None,
        signing_time: int | None = None,
    ) -> str:
        """Sign and send a decision; returns the status the provider recorded."""
        status = "approved" if approve else "denied"
        when = int(time.time()) if signing_time is None else signing_time
        body: dict[str, Any] = {
            "decision": "approve" if approve else "deny",
            "signing_time": when,
            "signature": sign(self._key, decision_text(uuid, status, when, number)),
        }
        if number is not None:
            body["number"] = number
        answer = self.call("POST", f"/device/v1/requests/{uuid}/decision", body)
        return str(answer["approval_request"]["status"])

    def devices(self) -> list[DeviceInfo]:
        return [DeviceInfo(**d) for d in self.call("GET", "/device/v1/devices")["devices"]]

    def pending_devices(self) -> list[PendingDevice]:
        body = self.call("GET", "/device/v1/devices/pending")
        return [PendingDevice(**d) for d in body["devices"]]

    def decide_device(self, uuid: str, *, approve: bool, number: int | None = None) -> str:
        """Approve a waiting device (with the number it shows) or deny it; the status."""
        body: dict[str, Any] = {"decision": "approve" if approve else "deny"}
        if number is not None:
            body["number"] = number
        answer = self.call("POST", f"/device/v1/devices/{uuid}/approval", body)
        return str(answer["device"]["status"])

    def revoke(self, uuid: str | None = None) -> None:
        self.call("DELETE", f"/device/v1/devices/{uuid or self.device_uuid}")

    def events(
        self, last_event_id: str | None = None, *, on_open: Callable[[], None] | None = None
    ) -> Iterator[Event]:
        """Read the live stream until the provider closes it (or the connection drops).

        ``on_open`` runs when the first bytes arrive: from then on the provider is subscribed
        and no new request can be missed.
        """
        path = "/device/v1/events"
        headers = self.signed_headers("GET", path, b"")
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        timeout = httpx.Timeout(self._timeout, read=STREAM_READ_TIMEOUT)
        try:
            with httpx.stream(
                "GET", self._base + path, headers=headers, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    response.read()
                    _raise_for(response)
                yield from parse_sse(_opened(response.iter_lines(), on_open))
        except httpx.HTTPError as exc:
            raise DeviceApiError(0, "", f"event stream interrupted: {exc}") from exc


def _opened(lines: Iterator[str], on_open: Callable[[], None] | None) -> Iterator[str]:
    for index, line in enumerate(lines):
        if index == 0 and on_open is not None:
            on_open()
        yield line


def parse_sse(lines: Iterator[str]) -> Iterator[Event]:
    """Server-Sent Events framing: ``field: value`` lines, a blank line ends an event."""
    event_id: str | None = None
    name = "message"
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                try:
                    payload = json.loads("\n".join(data))
                except ValueError:
                    payload = {}
                yield Event(event_id, name, payload if isinstance(payload, dict) else {})
            name, data = "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
        elif field == "id":
            event_id = value
