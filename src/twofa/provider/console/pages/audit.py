"""``/console/audit``: the audit log with filters, its CSV export and the chain check.

Every role reads the log and may run the chain check (it changes nothing). The CSV export is
for ``admin`` and ``helpdesk``: it takes the whole filtered log off the console in one file,
which a read-only seat (a wall screen, an auditor's browsing account) has no need to do.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from twofa.provider.console.auth import SignedIn, require
from twofa.provider.console.pages import query
from twofa.provider.console.templating import Nav, render, services
from twofa.provider.operators.model import Operator
from twofa.storage.database import utcnow

router = APIRouter()
NAV = Nav("Audit log", "/audit")
FIELDS = ("event", "subject", "actor", "app", "since", "until", "limit")
EXPORT_ROLES = ("admin", "helpdesk")
Exporter = Annotated[Operator, require(*EXPORT_ROLES)]


def _page(request: Request, operator: Operator, **extra: Any) -> HTMLResponse:
    params = request.query_params
    found = services(request).reports
    page = found.audit(query.audit_filter(params))
    return render(
        request,
        "console/reports/audit.html",
        page=page,
        apps=found.apps(),
        form=query.form_values(params, FIELDS),
        next_page=query.next_page(params, FIELDS, page.next_before),
        export=_export_query(request),
        can_export=operator.role in EXPORT_ROLES,
        **({"chain": None} | extra),
    )


def _export_query(request: Request) -> str:
    """The export link's query: the page's filters, without its paging."""
    kept = {k: v for k, v in request.query_params.items() if k in FIELDS and k != "limit" and v}
    return "?" + urlencode(kept) if kept else ""


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, operator: SignedIn) -> HTMLResponse:
    return _page(request, operator)


@router.post("/audit/verify", response_class=HTMLResponse)
def verify_chain(request: Request, operator: SignedIn) -> HTMLResponse:
    """Walk the chain now (a POST: it may take a while on a long log, so no link or crawler
    should start it)."""
    return _page(request, operator, chain=services(request).reports.chain())


@router.get("/audit.csv")
def export(request: Request, operator: Exporter) -> StreamingResponse:
    wanted = query.audit_filter(request.query_params)
    lines = services(request).reports.audit_export(wanted)
    name = f"twofa-audit-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.csv"
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
