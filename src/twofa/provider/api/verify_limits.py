"""Twilio Verify v2 routes: a Service's programmable RateLimits and their Buckets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from twofa.provider.api.guards import run_db
from twofa.provider.api.verify_plumbing import (
    INTEGER,
    PAGING,
    STRING,
    account,
    created,
    doc,
    form,
    no_content,
    ok,
    page_body,
    public_base,
    verify,
)
from twofa.provider.verify.accounts import Account
from twofa.provider.verify.views import bucket_view, rate_limit_view
from twofa.provider.verify.wire import Form, PageRequest

router = APIRouter(prefix="/v2/Services/{service_sid}/RateLimits", tags=["Verify v2: rate limits"])
Caller = Annotated[Account, Depends(account)]
Params = Annotated[Form, Depends(form)]
BUCKET = {"Max": INTEGER, "Interval": INTEGER}


@router.post("", openapi_extra=doc({"UniqueName": STRING, "Description": STRING}))
async def create_rate_limit(
    request: Request, service_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Create a rate limit. Example: `UniqueName=end_user_ip_address` → 201 `{"sid":"RK…",…}`"""
    found = await run_db(
        request, lambda: verify(request).rate_limits.create(caller, service_sid, params)
    )
    return created(rate_limit_view(public_base(request), found))


@router.get("", openapi_extra=doc(query=PAGING))
async def list_rate_limits(
    request: Request, service_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """List rate limits: `{"rate_limits":[…],"meta":{…}}`."""
    page = PageRequest.parse(params)
    found = await run_db(
        request, lambda: verify(request).rate_limits.list(caller, service_sid, page)
    )
    base = public_base(request)
    items = [rate_limit_view(base, r) for r in found.items]
    return page_body(request, key="rate_limits", items=items, page=page, after=found.next_after)


@router.get("/{sid}", openapi_extra=doc())
async def fetch_rate_limit(
    request: Request, service_sid: str, sid: str, caller: Caller
) -> JSONResponse:
    """Fetch a rate limit: `{"sid":"RK…","unique_name":"…",…}`."""
    found = await run_db(
        request, lambda: verify(request).rate_limits.fetch(caller, service_sid, sid)
    )
    return ok(rate_limit_view(public_base(request), found))


@router.post("/{sid}", openapi_extra=doc({"Description": STRING}))
async def update_rate_limit(
    request: Request, service_sid: str, sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Update a rate limit's description (its UniqueName is fixed)."""
    found = await run_db(
        request, lambda: verify(request).rate_limits.update(caller, service_sid, sid, params)
    )
    return ok(rate_limit_view(public_base(request), found))


@router.delete("/{sid}", status_code=204, openapi_extra=doc())
async def delete_rate_limit(
    request: Request, service_sid: str, sid: str, caller: Caller
) -> Response:
    """Delete a rate limit and its buckets: 204."""
    await run_db(request, lambda: verify(request).rate_limits.delete(caller, service_sid, sid))
    return no_content()


@router.post("/{limit_sid}/Buckets", openapi_extra=doc(BUCKET, required=["Max", "Interval"]))
async def create_bucket(
    request: Request, service_sid: str, limit_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Create a bucket. Example: `Max=5&Interval=60` → 201 `{"sid":"BL…","max":5,…}`"""
    found = await run_db(
        request,
        lambda: verify(request).rate_limits.create_bucket(caller, service_sid, limit_sid, params),
    )
    return created(bucket_view(public_base(request), found))


@router.get("/{limit_sid}/Buckets", openapi_extra=doc(query=PAGING))
async def list_buckets(
    request: Request, service_sid: str, limit_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """List buckets: `{"buckets":[…],"meta":{…}}`."""
    page = PageRequest.parse(params)
    found = await run_db(
        request,
        lambda: verify(request).rate_limits.list_buckets(caller, service_sid, limit_sid, page),
    )
    base = public_base(request)
    items = [bucket_view(base, b) for b in found.items]
    return page_body(request, key="buckets", items=items, page=page, after=found.next_after)


@router.get("/{limit_sid}/Buckets/{sid}", openapi_extra=doc())
async def fetch_bucket(
    request: Request, service_sid: str, limit_sid: str, sid: str, caller: Caller
) -> JSONResponse:
    """Fetch a bucket."""
    found = await run_db(
        request,
        lambda: verify(request).rate_limits.fetch_bucket(caller, service_sid, limit_sid, sid),
    )
    return ok(bucket_view(public_base(request), found))


@router.post("/{limit_sid}/Buckets/{sid}", openapi_extra=doc(BUCKET))
async def update_bucket(
    request: Request, service_sid: str, limit_sid: str, sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Update a bucket's `Max` or `Interval`."""
    found = await run_db(
        request,
        lambda: verify(request).rate_limits.update_bucket(
            caller, service_sid, limit_sid, sid, params
        ),
    )
    return ok(bucket_view(public_base(request), found))


@router.delete("/{limit_sid}/Buckets/{sid}", status_code=204, openapi_extra=doc())
async def delete_bucket(
    request: Request, service_sid: str, limit_sid: str, sid: str, caller: Caller
) -> Response:
    """Delete a bucket: 204."""
    await run_db(
        request,
        lambda: verify(request).rate_limits.delete_bucket(caller, service_sid, limit_sid, sid),
    )
    return no_content()
