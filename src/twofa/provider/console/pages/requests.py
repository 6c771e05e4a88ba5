"""``/console/requests``: approval requests with filters, and each one's timeline."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from twofa.provider.console.auth import SignedIn
from twofa.provider.console.pages import query
from twofa.provider.console.templating import Nav, render, services

router = APIRouter()
NAV = Nav("Requests", "/requests")
FIELDS = ("app", "status", "user", "since", "until", "limit")
# Who sees the retry button on a delivery (the route that retries is the deliveries page's).
RETRY_ROLES = ("admin", "helpdesk")


@router.get("/requests", response_class=HTMLResponse)
def requests(request: Request, operator: SignedIn) -> HTMLResponse:
    params = request.query_params
    found = services(request).reports
    page = found.requests(query.request_filter(params))
    return render(
        request,
        "console/reports/requests.html",
        page=page,
        apps=found.apps(),
        form=query.form_values(params, FIELDS),
        states=query.REQUEST_STATES,
        next_page=query.next_page(params, FIELDS, page.next_before),
    )


@router.get("/requests/{uuid}", response_class=HTMLResponse)
def timeline(request: Request, uuid: str, operator: SignedIn) -> HTMLResponse:
    story = services(request).reports.timeline(uuid[:64])
    if story is None:
        raise HTTPException(404)
    return render(
        request,
        "console/reports/request.html",
        story=story,
        can_retry=operator.role in RETRY_ROLES,
    )
