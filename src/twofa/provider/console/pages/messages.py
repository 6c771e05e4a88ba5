"""``/console/messages``: the texts, calls and e-mails sent, with numbers and codes masked
(``reports/masking.py`` says why)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from twofa.provider.console.auth import SignedIn
from twofa.provider.console.pages import query
from twofa.provider.console.templating import Nav, render, services

router = APIRouter()
NAV = Nav("Messages", "/messages")
FIELDS = ("app", "channel", "status", "to", "since", "until", "limit")


@router.get("/messages", response_class=HTMLResponse)
def messages(request: Request, operator: SignedIn) -> HTMLResponse:
    params = request.query_params
    found = services(request).reports
    page = found.messages(query.message_filter(params))
    return render(
        request,
        "console/reports/messages.html",
        page=page,
        apps=found.apps(),
        form=query.form_values(params, FIELDS),
        channels=query.MESSAGE_CHANNELS,
        states=query.MESSAGE_STATES,
        next_page=query.next_page(params, FIELDS, page.next_before),
    )
