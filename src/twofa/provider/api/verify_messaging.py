"""Twilio Verify v2 routes: a Service's Messaging Configurations (stored and echoed)."""

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
from twofa.provider.verify.messaging_configs import configuration_view
from twofa.provider.verify.wire import Form, PageRequest

router = APIRouter(
    prefix="/v2/Services/{service_sid}/MessagingConfigurations",
    tags=["Verify v2: messaging configurations"],
)
Caller = Annotated[Account, Depends(account)]
Params = Annotated[Form, Depends(form)]


@router.post(
    "",
    openapi_extra=doc(
        {"Country": STRING, "MessagingServiceSid": STRING},
        required=["Country", "MessagingServiceSid"],
    ),
)
async def create_configuration(
    request: Request, service_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Name a messaging service for a country. Example: `Country=CA&MessagingServiceSid=MG…`
    → 201; the same country again → 409/60213."""
    service, row = await run_db(
        request, lambda: verify(request).messaging.create(caller, service_sid, params)
    )
    return created(configuration_view(public_base(request), service, row))


@router.get("", openapi_extra=doc(query=PAGING))
async def list_configurations(
    request: Request, service_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """List configurations: `{"messaging_configurations":[…],"meta":{…}}`."""
    page = PageRequest.parse(params)
    service, found = await run_db(
        request, lambda: verify(request).messaging.list(caller, service_sid, page)
    )
    base = public_base(request)
    items = [configuration_view(base, service, row) for row in found.items]
    return page_body(
        request, key="messaging_configurations", items=items, page=page, after=found.next_after
    )


@router.get("/{country}", openapi_extra=doc())
async def fetch_configuration(
    request: Request, service_sid: str, country: str, caller: Caller
) -> JSONResponse:
    """Fetch the configuration of a country (`CA`, or `all`)."""
    service, row = await run_db(
        request, lambda: verify(request).messaging.fetch(caller, service_sid, country)
    )
    return ok(configuration_view(public_base(request), service, row))


@router.post(
    "/{country}",
    openapi_extra=doc({"MessagingServiceSid": STRING}, required=["MessagingServiceSid"]),
)
async def update_configuration(
    request: Request, service_sid: str, country: str, caller: Caller, params: Params
) -> JSONResponse:
    """Change the messaging service of a country."""
    service, row = await run_db(
        request, lambda: verify(request).messaging.update(caller, service_sid, country, params)
    )
    return ok(configuration_view(public_base(request), service, row))


@router.delete("/{country}", status_code=204, openapi_extra=doc())
async def delete_configuration(
    request: Request, service_sid: str, country: str, caller: Caller
) -> Response:
    """Delete a country's configuration: 204."""
    await run_db(request, lambda: verify(request).messaging.delete(caller, service_sid, country))
    return no_content()
