"""An in-memory stand-in for the provider's Authy API, served through ``httpx.MockTransport``.

Unit tests of the site use it for speed and to stage states the real provider reaches only
through a device (a registered app, an approval). The same flows run against the real provider
in ``tests/integration/site``.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from twofa.client import Client


@dataclass
class FakeUser:
    authy_id: int
    email: str
    cellphone: str
    country_code: int
    registered: bool = False
    codes: list[str] = field(default_factory=list)


@dataclass
class FakeApproval:
    uuid: str
    authy_id: int
    message: str
    details: dict[str, Any]
    number: int | None
    status: str = "pending"


class FakeProvider:
    """Enough of the Authy API for the site: users, status, sms/call, verify, approvals."""

    def __init__(self) -> None:
        self.users: dict[int, FakeUser] = {}
        self.approvals: dict[str, FakeApproval] = {}
        self.sent: list[tuple[str, int, bool]] = []  # (channel, authy_id, force)
        self.down = False
        self.rate_limited: set[str] = set()  # endpoint kinds answering 429
        self.requests: list[httpx.Request] = []

    def client(self, api_key: str = "test-api-key") -> Client:
        return Client(api_key, "http://provider.test", transport=httpx.MockTransport(self.handle))

    # -- test helpers ------------------------------------------------------------------------

    def register_app(self, authy_id: int) -> None:
        self.users[authy_id].registered = True

    def last_code(self, authy_id: int) -> str:
        return self.users[authy_id].codes[-1]

    def last_approval(self) -> FakeApproval:
        return list(self.approvals.values())[-1]

    # -- the API -----------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        body = json.loads(request.content) if request.content else {}
        for pattern, kind, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match:
                if kind in self.rate_limited:
                    return _error(429, "60003", "DoS protection")
                return handler(request, body, *match.groups())
        return _error(404, "60000", "Not found")

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            (r"/protected/json/users/new", "users", self._create_user),
            (r"/protected/json/users/(\d+)/status", "status", self._status),
            (r"/protected/json/(sms|call)/(\d+)", "sms", self._send),
            (r"/protected/json/verify/(\d+)/(\d+)", "verify", self._verify),
            (r"/onetouch/json/users/(\d+)/approval_requests", "push", self._push),
            (r"/onetouch/json/approval_requests/([^/]+)", "approval", self._approval),
        ]

    def _create_user(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        user = body["user"]
        if not str(user.get("cellphone", "")).isdigit():
            return _error(400, "60027", "User was not valid", cellphone="is invalid")
        for existing in self.users.values():
            if existing.cellphone == user["cellphone"]:
                return _ok(user={"id": existing.authy_id}, message="User created successfully.")
        authy_id = 1000 + len(self.users)
        self.users[authy_id] = FakeUser(
            authy_id, user["email"], user["cellphone"], int(user["country_code"])
        )
        return _ok(user={"id": authy_id}, message="User created successfully.")

    def _user(self, raw: str) -> FakeUser | None:
        return self.users.get(int(raw))

    def _status(self, request: httpx.Request, body: dict[str, Any], raw: str) -> httpx.Response:
        user = self._user(raw)
        if user is None:
            return _error(404, "60026", "User not found.")
        devices = ["android"] if user.registered else []
        detailed = (
            [
                {
                    "device_type": "authy",
                    "os_type": "android",
                    "device_id": 7,
                    "creation_date": 1700000000,
                    "last_sync_date": 1700000100,
                }
            ]
            if user.registered
            else []
        )
        status = {
            "authy_id": user.authy_id,
            "registered": user.registered,
            "confirmed": True,
            "country_code": user.country_code,
            "phone_number": "XXX-XXX-" + user.cellphone[-4:],
            "devices": devices,
            "detailed_devices": detailed,
            "has_hard_token": False,
            "account_disabled": False,
        }
        return _ok(status=status, message="User status.")

    def _send(
        self, request: httpx.Request, body: dict[str, Any], channel: str, raw: str
    ) -> httpx.Response:
        user = self._user(raw)
        if user is None:
            return _error(404, "60026", "User not found.")
        force = request.url.params.get("force", "").lower() == "true"
        self.sent.append((channel, user.authy_id, force))
        masked = "+1-XXX-XXX-XX" + user.cellphone[-2:]
        if user.registered and not force:
            return _ok(ignored=True, device="android", cellphone=masked, message="Ignored")
        user.codes.append(f"{secrets.randbelow(10**7):07d}")
        return _ok(cellphone=masked, message="SMS token was sent")

    def _verify(
        self, request: httpx.Request, body: dict[str, Any], token: str, raw: str
    ) -> httpx.Response:
        user = self._user(raw)
        if user is None:
            return _error(404, "60026", "User not found.")
        if user.codes and token == user.codes[-1]:
            user.codes.append("used")
            return _ok(message="Token is valid.", token="is valid", device={"os_type": "sms"})
        return _error(401, "60020", "Token is invalid", token="is invalid")

    def _push(self, request: httpx.Request, body: dict[str, Any], raw: str) -> httpx.Response:
        user = self._user(raw)
        if user is None:
            return _error(404, "60026", "User not found.")
        if not user.registered:
            return _error(400, "60050", "User is not registered for OneTouch")
        number = 10 + secrets.randbelow(90) if body.get("number_matching") else None
        approval = FakeApproval(
            str(uuidlib.uuid4()), user.authy_id, body["message"], body.get("details") or {}, number
        )
        self.approvals[approval.uuid] = approval
        created: dict[str, Any] = {"uuid": approval.uuid}
        if number is not None:
            created["number"] = number
        return _ok(approval_request=created)

    def _approval(self, request: httpx.Request, body: dict[str, Any], uuid: str) -> httpx.Response:
        approval = self.approvals.get(uuid)
        if approval is None:
            return _error(404, "60049", f"Approval request not found: {uuid}")
        return _ok(
            approval_request={
                "uuid": uuid,
                "status": approval.status,
                "_authy_id": approval.authy_id,
                "created_at": "2024-01-01T00:00:00Z",
                "processed_at": None,
                "seconds_to_expire": 120,
            }
        )


def _ok(**fields: Any) -> httpx.Response:
    return httpx.Response(200, json={**fields, "success": True})


def _error(status: int, code: str, message: str, **fields: str) -> httpx.Response:
    body = {
        "message": message,
        "success": False,
        "errors": {**fields, "message": message},
        **fields,
        "error_code": code,
    }
    return httpx.Response(status, json=body)
