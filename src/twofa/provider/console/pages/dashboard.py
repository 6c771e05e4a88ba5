"""``/console/dashboard``, the console's home: the last 24 hours in pictures.

Every chart is SVG drawn on the server (``reports/svg.py``), with the same numbers in a table
under it, so the page reads the same without JavaScript, in a screen reader and in print.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from twofa.provider.console.auth import SignedIn
from twofa.provider.console.templating import Nav, render, services
from twofa.provider.reports import svg
from twofa.provider.reports.model import Dashboard

router = APIRouter()
NAV = Nav("Dashboard", "/dashboard")


def charts(board: Dashboard) -> dict[str, Markup]:
    """The dashboard's pictures, drawn from its figures."""
    return {
        "verifications": svg.stacked_hours(board.verifications, title="Verifications per hour"),
        "channels": svg.bars(
            [svg.Bar(c.channel, (("ok", c.ok), ("failed", c.failed))) for c in board.channels],
            title="Verifications by channel",
        ),
        "push": svg.stacked_hours(board.push, title="Push outcomes per hour"),
        "countries": svg.bars(
            [
                svg.Bar(
                    c.country,
                    (("sent", c.sent), ("failed", c.failed)),
                    note=_conversion(c.verified, c.codes),
                )
                for c in board.countries[:12]
            ],
            title="SMS by destination country",
        ),
        "receivers": svg.bars(
            [
                svg.Bar(
                    r.app_name or r.target,
                    (("delivered", r.delivered), ("pending", r.pending), ("failed", r.failed)),
                    note=r.state,
                )
                for r in board.receivers[:12]
            ],
            title="Deliveries by receiver",
        ),
    }


def _conversion(verified: int, codes: int) -> str:
    return f"{round(100 * verified / codes)} % of {codes} codes used" if codes else "no codes"


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, operator: SignedIn) -> HTMLResponse:
    board = services(request).reports.dashboard()
    return render(request, "console/reports/dashboard.html", board=board, charts=charts(board))
