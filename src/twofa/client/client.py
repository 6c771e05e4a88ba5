"""A small synchronous client for the provider's Authy-compatible API.

One :class:`Client` holds one pooled ``httpx.Client``; it is safe to share between threads, so a
web app builds one at start and closes it at exit. Every method either returns a typed result or
raises a :class:`~twofa.client.errors.ProviderError` subclass, never ``False`` or a raw dict.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx

from twofa.client.decisions import DEFAULT_POLL_INTERVAL, CallbackWait, wait_for_decision
from twofa.client.errors import InvalidToken, ProviderError, ProviderUnavailable, error_for
from twofa.client.models import (
    AppDetails,
    ApprovalRequest,
    PhoneVerification,
    SmsResult,
    TokenCheck,
    User,
    UserStatus,
)

USER_AGENT = "twofa-client/0.1"
DEFAULT_TIMEOUT = 10.0


def _seg(value: object) -> str:
    """One path segment, percent-encoded so a hostile value cannot change the path."""
    return quote(str(value), safe="")


class Client:
    """The provider API for one application, identified by its API key.

    ``base_url`` is the provider root (``http://127.0.0.1:5001``); paths are appended to it, so a
    base with a prefix (``https://host/authy``) works too. ``transport`` is for tests and
    special deployments (for example a Unix socket); normal callers leave it out.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"X-Authy-API-Key": api_key, "User-Agent": USER_AGENT, "Accept": "*/*"},
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- users -------------------------------------------------------------------------------

    def create_user(
        self,
        *,
        email: str,
        cellphone: str,
        country_code: int | str,
        send_install_link_via_sms: bool = False,
    ) -> User:
        """Register a user (or find the one with this phone) and return its authy id."""
        body = {
            "user": {"email": email, "cellphone": cellphone, "country_code": country_code},
            "send_install_link_via_sms": send_install_link_via_sms,
        }
        data = self._request("POST", "/protected/json/users/new", json=body)
        return User(authy_id=int(data["user"]["id"]))

    def user_status(self, authy_id: int) -> UserStatus:
        """The user's factors: registered app, confirmed, devices, masked phone."""
        data = self._request("GET", f"/protected/json/users/{_seg(authy_id)}/status")
        return UserStatus.from_json(data.get("status") or {})

    def delete_user(self, authy_id: int) -> None:
        """Remove the user from the application."""
        self._request("POST", f"/protected/json/users/{_seg(authy_id)}/delete", json={})

    # -- codes -------------------------------------------------------------------------------

    def request_sms(
        self,
        authy_id: int,
        *,
        force: bool = False,
        action: str | None = None,
        action_message: str | None = None,
    ) -> SmsResult:
        """Text a code to the user. Without ``force`` the provider skips users who have an app."""
        params = self._code_params(force, action, action_message)
        data = self._request("GET", f"/protected/json/sms/{_seg(authy_id)}", params=params)
        return SmsResult.from_json(data)

    def request_call(
        self,
        authy_id: int,
        *,
        force: bool = False,
        action: str | None = None,
        action_message: str | None = None,
    ) -> SmsResult:
        """Read a code to the user by voice call; ``force`` as for :meth:`request_sms`."""
        params = self._code_params(force, action, action_message)
        data = self._request("GET", f"/protected/json/call/{_seg(authy_id)}", params=params)
        return SmsResult.from_json(data)

    def verify_token(self, authy_id: int, token: str) -> TokenCheck:
        """Check a code from SMS, call or app. Always sends ``force=true`` so it is enforced.

        Raises :class:`InvalidToken` for a wrong, expired or reused code. A code that is not
        6 to 12 digits is refused here without a request, as the provider would refuse it.
        """
        token = token.strip()
        if not token.isdigit() or not 6 <= len(token) <= 12:
            raise InvalidToken("Token is invalid", status=401, error_code="60020")
        path = f"/protected/json/verify/{_seg(token)}/{_seg(authy_id)}"
        data = self._request("GET", path, params={"force": "true"})
        device = data.get("device")
        device_type = device.get("os_type") if isinstance(device, dict) else None
        return TokenCheck(message=str(data.get("message") or ""), device_type=device_type)

    # -- push approvals ----------------------------------------------------------------------

    def create_approval_request(
        self,
        authy_id: int,
        *,
        message: str,
        details: dict[str, str] | None = None,
        hidden_details: dict[str, str] | None = None,
        logos: list[dict[str, str]] | None = None,
        seconds_to_expire: int | None = None,
        number_matching: bool = False,
    ) -> ApprovalRequest:
        """Push an approval request to the user's app.

        With ``number_matching`` the provider picks a number that the user must select on the
        phone; it comes back as ``ApprovalRequest.number`` for the site to display.
        """
        body: dict[str, Any] = {
            "message": message,
            "details": details or {},
            "hidden_details": hidden_details or {},
            "logos": logos or [],
            "seconds_to_expire": seconds_to_expire,
        }
        if number_matching:
            body["number_matching"] = True
        path = f"/onetouch/json/users/{_seg(authy_id)}/approval_requests"
        data = self._request("POST", path, json=body)
        request = dict(data["approval_request"])
        request.setdefault("seconds_to_expire", seconds_to_expire)
        return ApprovalRequest.from_json(request)

    def get_approval_request(self, uuid: str) -> ApprovalRequest:
        """The current state of an approval request."""
        data = self._request("GET", f"/onetouch/json/approval_requests/{_seg(uuid)}")
        return ApprovalRequest.from_json(data["approval_request"])

    def wait_for_decision(
        self,
        uuid: str,
        *,
        timeout: float,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        callback: CallbackWait | None = None,
    ) -> str:
        """Wait for the user's answer by callback *or* by asking at a bounded interval.

        Returns ``approved``, ``denied``, ``expired``, or ``pending`` after ``timeout`` seconds;
        see :func:`twofa.client.decisions.wait_for_decision`. Use it instead of trusting the
        callback alone: a lost callback then costs ``poll_interval`` seconds, not the login.
        """
        return wait_for_decision(
            self, uuid, timeout=timeout, poll_interval=poll_interval, callback=callback
        )

    # -- phone verification ------------------------------------------------------------------

    def start_phone_verification(
        self,
        *,
        phone_number: str,
        country_code: int | str,
        via: Literal["sms", "call"] = "sms",
        code_length: int = 4,
        locale: str | None = None,
    ) -> PhoneVerification:
        """Send a code to a phone number that is not (yet) a user, to prove the caller holds it."""
        body: dict[str, Any] = {
            "phone_number": phone_number,
            "country_code": str(country_code),
            "via": via,
            "code_length": code_length,
        }
        if locale:
            body["locale"] = locale
        data = self._request("POST", "/protected/json/phones/verification/start", json=body)
        return PhoneVerification.from_json(data)

    def check_phone_verification(
        self, *, phone_number: str, country_code: int | str, verification_code: str
    ) -> None:
        """Accept the code or raise :class:`VerificationFailed` (wrong, or none pending)."""
        params = {
            "phone_number": phone_number,
            "country_code": str(country_code),
            "verification_code": verification_code,
        }
        self._request("GET", "/protected/json/phones/verification/check", params=params)

    # -- application -------------------------------------------------------------------------

    def app_details(self) -> AppDetails:
        """The application this API key belongs to."""
        data = self._request("GET", "/protected/json/app/details")
        return AppDetails.from_json(data.get("app") or {})

    # -- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _code_params(force: bool, action: str | None, action_message: str | None) -> dict[str, str]:
        params = {"force": "true"} if force else {}
        if action:
            params["action"] = action
        if action_message:
            params["action_message"] = action_message
        return params

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send one request; return the JSON body of a 200, raise the matching error otherwise."""
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"provider timed out: {exc}") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"provider unreachable: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if response.status_code == 200 or response.status_code >= 500:
                raise ProviderUnavailable(
                    f"provider answered HTTP {response.status_code} without a JSON object",
                    status=response.status_code,
                )
            raise ProviderError(
                f"provider answered HTTP {response.status_code}", status=response.status_code
            )
        if response.status_code == 200 and body.get("success") not in (False, "false"):
            return body
        raise error_for(response.status_code, body, retry_after=_retry_after(response))


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("Retry-After")
    if value and value.isdigit():
        return int(value)
    return None
