"""Twilio Verify v2 routes: a Service's Webhooks (events signed with ``X-Twilio-Signature``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from twofa.provider.api.guards import run_db
from twofa.provider.api.verify_plumbing import (
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
from twofa.provider.verify.webhooks import EVENTS, webhook_view
from twofa.provider.verify.wire import Form, PageRequest

router = APIRouter(prefix="/v2/Services/{service_sid}/Webhooks", tags=["Verify v2: webhooks"])
Caller = Annotated[Account, Depends(account)]
Params = Annotated[Form, Depends(form)]
FIELDS = {
    "FriendlyName": STRING,
    "EventTypes": {"type": "array", "items": {"type": "string", "enum": list(EVENTS)}},
    "WebhookUrl": STRING,
    "Status": {"type": "string", "enum": ["enabled", "disabled"]},
    "Version": {"type": "string", "enum": ["v1", "v2"]},
}


@router.post("", openapi_extra=doc(FIELDS, required=["FriendlyName", "EventTypes", "WebhookUrl"]))
async def create_webhook(
    request: Request, service_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Subscribe a URL to events. Example:
    `FriendlyName=hook&EventTypes=challenge.approved&WebhookUrl=https://…` → 201 `{"sid":"YW…"}`
    """
    service, row = await run_db(
        request, lambda: verify(request).webhooks.create(caller, service_sid, params)
    )
    return created(webhook_view(public_base(request), service, row))


@router.get("", openapi_extra=doc(query=PAGING))
async def list_webhooks(
    request: Request, service_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """List webhooks: `{"webhooks":[…],"meta":{…}}`."""
    page = PageRequest.parse(params)
    service, found = await run_db(
        request, lambda: verify(request).webhooks.list(caller, service_sid, page)
    )
    base = public_base(request)
    items = [webhook_view(base, service, row) for row in found.items]
    return page_body(request, key="webhooks", items=items, page=page, after=found.next_after)


@router.get("/{sid}", openapi_extra=doc())
async def fetch_webhook(
    request: Request, service_sid: str, sid: str, caller: Caller
) -> JSONResponse:
    """Fetch a webhook."""
    service, row = await run_db(
        request, lambda: verify(request).webhooks.fetch(caller, service_sid, sid)
    )
    return ok(webhook_view(public_base(request), service, row))


@router.post("/{sid}", openapi_extra=doc(FIELDS))
async def update_webhook(
    request: Request, service_sid: str, sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Change a webhook's name, events, URL, status or version."""
    service, row = await run_db(
        request, lambda: verify(request).webhooks.update(caller, service_sid, sid, params)
    )
    return ok(webhook_view(public_base(request), service, row))


@router.delete("/{sid}", status_code=204, openapi_extra=doc())
async def delete_webhook(request: Request, service_sid: str, sid: str, caller: Caller) -> Response:
    """Delete a webhook: 204."""
    await run_db(request, lambda: verify(request).webhooks.delete(caller, service_sid, sid))
    return no_content()
