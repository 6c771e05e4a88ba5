"""The ``/onetouch/json`` routes: create and read approval requests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from twofa.errors import MissingParameter
from twofa.provider.api.docs import BOOL, INT, OBJECT, STRING, doc
from twofa.provider.api.guards import api_key, read_params, run_db, services
from twofa.provider.params import as_bool, as_int, as_str, required, string_map
from twofa.provider.push.model import ApprovalRequest, NewRequest
from twofa.text import clean, clean_map

router = APIRouter(tags=["Authy: OneTouch"])
Params = Annotated[dict[str, Any], Depends(read_params)]
Key = Annotated[str | None, Depends(api_key)]
LOGO_RES = {"default", "low", "med", "high"}
MAX_TTL = 30 * 86400


def _logos(value: Any) -> list[dict[str, str]] | None:
    if value in (None, "", []):
        return None
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list) or len(value) > 8:
        raise MissingParameter("logos", "must be a list of {res, url}")
    logos = []
    for item in value:
        if not isinstance(item, dict):
            raise MissingParameter("logos", "must be a list of {res, url}")
        res = as_str(item.get("res", "default"), "logos[res]", max_length=10)
        url = as_str(item.get("url", ""), "logos[url]", max_length=500)
        if res not in LOGO_RES or not url.startswith(("https://", "http://")):
            raise MissingParameter(
                "logos", "each logo needs res (default, low, med, high) and an http(s) url"
            )
        logos.append({"res": res, "url": url})
    return logos


def parse_new_request(params: dict[str, Any]) -> NewRequest:
    """Validate the creation parameters (message, details, hidden_details, logos, expiry)."""
    message = as_str(required(params, "message"), "message", max_length=500)
    ttl_raw = params.get("seconds_to_expire")
    ttl = None
    if ttl_raw not in (None, ""):
        ttl = as_int(ttl_raw, "seconds_to_expire")
        if not 0 <= ttl <= MAX_TTL:
            raise MissingParameter("seconds_to_expire", f"must be between 0 and {MAX_TTL}")
    details = string_map(params.get("details"), "details")
    hidden = string_map(params.get("hidden_details"), "hidden_details")
    if len(details) > 50 or len(hidden) > 50:
        raise MissingParameter("details", "at most 50 entries")
    return NewRequest(
        message=clean(message),
        details=clean_map(details),
        hidden_details=clean_map(hidden),
        logos=_logos(params.get("logos")),
        seconds_to_expire=ttl,
        number_matching=(
            None
            if params.get("number_matching") in (None, "")
            else as_bool(params.get("number_matching"))
        ),
    )


@router.post(
    "/onetouch/json/users/{authy_id}/approval_requests",
    openapi_extra=doc(
        body={
            "message": STRING,
            "seconds_to_expire": INT,
            "details": OBJECT,
            "hidden_details": OBJECT,
            "logos": {"type": "array", "items": OBJECT},
            "number_matching": BOOL,
        },
        required=["message"],
    ),
)
async def create_approval_request(
    request: Request, authy_id: str, params: Params, key: Key
) -> JSONResponse:
    """Push an approval request to the user's devices (default expiry 86400 s; 0 = never).

    Example: `{"message": "Login requested", "details": {"Email": "a@b.com"}}` →
    `{"approval_request":{"uuid":"…"},"success":true}`. With `number_matching: true` the
    answer also carries `approval_request.number`, the number the login page must show.
    """
    svc = services(request)

    def work() -> ApprovalRequest:
        app = svc.apps.authenticate(key)  # the key first: a stranger learns nothing else
        return svc.push.create(app, authy_id, parse_new_request(params))

    created = await run_db(request, work)
    body: dict[str, Any] = {"uuid": created.uuid}
    if created.number is not None:
        body["number"] = created.number
    return JSONResponse({"approval_request": body, "success": True})


@router.get("/onetouch/json/approval_requests/{uuid}", openapi_extra=doc())
async def approval_request_status(request: Request, uuid: str, key: Key) -> JSONResponse:
    """The request's status: pending, approved, denied or expired.

    Example response: `{"approval_request":{"status":"pending","uuid":"…",…},"success":true}`
    """
    svc = services(request)
    _, body = await run_db(request, lambda: svc.push.get(svc.apps.authenticate(key), uuid))
    return JSONResponse({"approval_request": body, "success": True})
