"""Twilio Verify v2 routes, second scope: Entities, TOTP Factors and Challenges."""

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
from twofa.provider.verify.factor_views import (
    challenge_view,
    entity_view,
    factor_view,
    new_factor_view,
)
from twofa.provider.verify.wire import Form, PageRequest

router = APIRouter(
    prefix="/v2/Services/{service_sid}/Entities", tags=["Verify v2: entities, factors, challenges"]
)
Caller = Annotated[Account, Depends(account)]
Params = Annotated[Form, Depends(form)]
FACTOR_FIELDS = {
    "FriendlyName": STRING,
    "FactorType": {"type": "string", "enum": ["totp", "push"]},
    "Binding.Secret": STRING,
    "Config.TimeStep": INTEGER,
    "Config.Skew": INTEGER,
    "Config.CodeLength": INTEGER,
    "Config.Alg": {"type": "string", "enum": ["sha1", "sha256", "sha512"]},
    "Metadata": STRING,
}
CHALLENGE_FIELDS = {
    "FactorSid": STRING,
    "ExpirationDate": STRING,
    "Details.Message": STRING,
    "Details.Fields": {"type": "array", "items": STRING},
    "HiddenDetails": STRING,
    "AuthPayload": STRING,
}


@router.post("", openapi_extra=doc({"Identity": STRING}, required=["Identity"]))
async def create_entity(
    request: Request, service_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Create an entity (a user). Example: `Identity=ff483d1ff591898a` → 201 `{"sid":"YE…"}`"""
    found = await run_db(
        request, lambda: verify(request).factors.create_entity(caller, service_sid, params)
    )
    return created(entity_view(public_base(request), found))


@router.get("", openapi_extra=doc(query=PAGING))
async def list_entities(
    request: Request, service_sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """List entities: `{"entities":[…],"meta":{…}}`."""
    page = PageRequest.parse(params)
    found = await run_db(
        request, lambda: verify(request).factors.entities(caller, service_sid, page)
    )
    base = public_base(request)
    items = [entity_view(base, e) for e in found.items]
    return page_body(request, key="entities", items=items, page=page, after=found.next_after)


@router.get("/{identity}", openapi_extra=doc())
async def fetch_entity(
    request: Request, service_sid: str, identity: str, caller: Caller
) -> JSONResponse:
    """Fetch an entity by its identity."""
    found = await run_db(
        request, lambda: verify(request).factors.entity(caller, service_sid, identity)
    )
    return ok(entity_view(public_base(request), found))


@router.delete("/{identity}", status_code=204, openapi_extra=doc())
async def delete_entity(
    request: Request, service_sid: str, identity: str, caller: Caller
) -> Response:
    """Delete an entity with its factors and challenges: 204."""
    await run_db(
        request, lambda: verify(request).factors.delete_entity(caller, service_sid, identity)
    )
    return no_content()


@router.post(
    "/{identity}/Factors",
    openapi_extra=doc(FACTOR_FIELDS, required=["FriendlyName", "FactorType"]),
)
async def create_factor(
    request: Request, service_sid: str, identity: str, caller: Caller, params: Params
) -> JSONResponse:
    """Create a TOTP factor; the answer's `binding` (secret, `otpauth://` URI) is shown once.

    Example: `FriendlyName=Alice&FactorType=totp` → 201
    `{"sid":"YF…","status":"unverified","binding":{"secret":"…","uri":"otpauth://totp/…"}}`
    """
    found = await run_db(
        request, lambda: verify(request).factors.create(caller, service_sid, identity, params)
    )
    return created(new_factor_view(public_base(request), found))


@router.get("/{identity}/Factors", openapi_extra=doc(query=PAGING))
async def list_factors(
    request: Request, service_sid: str, identity: str, caller: Caller, params: Params
) -> JSONResponse:
    """List an entity's factors: `{"factors":[…],"meta":{…}}`."""
    page = PageRequest.parse(params)
    found = await run_db(
        request, lambda: verify(request).factors.list(caller, service_sid, identity, page)
    )
    base = public_base(request)
    items = [factor_view(base, f) for f in found.items]
    return page_body(request, key="factors", items=items, page=page, after=found.next_after)


@router.get("/{identity}/Factors/{sid}", openapi_extra=doc())
async def fetch_factor(
    request: Request, service_sid: str, identity: str, sid: str, caller: Caller
) -> JSONResponse:
    """Fetch a factor (never its binding)."""
    found = await run_db(
        request, lambda: verify(request).factors.fetch(caller, service_sid, identity, sid)
    )
    return ok(factor_view(public_base(request), found))


@router.post(
    "/{identity}/Factors/{sid}",
    openapi_extra=doc(
        {
            "AuthPayload": STRING,
            "FriendlyName": STRING,
            "Config.TimeStep": INTEGER,
            "Config.Skew": INTEGER,
            "Config.CodeLength": INTEGER,
            "Config.Alg": STRING,
        }
    ),
)
async def update_factor(
    request: Request, service_sid: str, identity: str, sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Verify with `AuthPayload` (a wrong code: 200, still `unverified`), rename, reconfigure."""
    found = await run_db(
        request,
        lambda: verify(request).factors.update(caller, service_sid, identity, sid, params),
    )
    return ok(factor_view(public_base(request), found))


@router.delete("/{identity}/Factors/{sid}", status_code=204, openapi_extra=doc())
async def delete_factor(
    request: Request, service_sid: str, identity: str, sid: str, caller: Caller
) -> Response:
    """Delete a factor: 204."""
    await run_db(
        request, lambda: verify(request).factors.delete(caller, service_sid, identity, sid)
    )
    return no_content()


@router.post("/{identity}/Challenges", openapi_extra=doc(CHALLENGE_FIELDS, required=["FactorSid"]))
async def create_challenge(
    request: Request, service_sid: str, identity: str, caller: Caller, params: Params
) -> JSONResponse:
    """Create a challenge; with `AuthPayload` (TOTP) it is answered at once.

    Example: `FactorSid=YF…&AuthPayload=123456` → 201 `{"sid":"YC…","status":"approved",…}`
    """
    found = await run_db(
        request,
        lambda: verify(request).challenges.create(caller, service_sid, identity, params),
    )
    return created(challenge_view(public_base(request), found))


@router.get(
    "/{identity}/Challenges",
    openapi_extra=doc(query={**PAGING, "FactorSid": STRING, "Status": STRING, "Order": STRING}),
)
async def list_challenges(
    request: Request, service_sid: str, identity: str, caller: Caller, params: Params
) -> JSONResponse:
    """List challenges, filtered by `FactorSid`, `Status`, in `Order` (asc by default)."""
    page = PageRequest.parse(params)
    found = await run_db(
        request,
        lambda: verify(request).challenges.list(caller, service_sid, identity, params, page),
    )
    base = public_base(request)
    items = [challenge_view(base, c) for c in found.items]
    filters = {
        name: value
        for name in ("FactorSid", "Status", "Order")
        if (value := params.text(name, max_length=34))
    }
    return page_body(
        request,
        key="challenges",
        items=items,
        page=page,
        after=found.next_after,
        filters=filters,
    )


@router.get("/{identity}/Challenges/{sid}", openapi_extra=doc())
async def fetch_challenge(
    request: Request, service_sid: str, identity: str, sid: str, caller: Caller
) -> JSONResponse:
    """Fetch a challenge."""
    found = await run_db(
        request, lambda: verify(request).challenges.fetch(caller, service_sid, identity, sid)
    )
    return ok(challenge_view(public_base(request), found))


@router.post(
    "/{identity}/Challenges/{sid}",
    openapi_extra=doc({"AuthPayload": STRING}, required=["AuthPayload"]),
)
async def update_challenge(
    request: Request, service_sid: str, identity: str, sid: str, caller: Caller, params: Params
) -> JSONResponse:
    """Answer a challenge with a TOTP code (wrong: 200, still `pending`; the 6th: 60308)."""
    found = await run_db(
        request,
        lambda: verify(request).challenges.update(caller, service_sid, identity, sid, params),
    )
    return ok(challenge_view(public_base(request), found))
