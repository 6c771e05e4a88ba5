"""The development outbox page: the demo's "phone", listing every message the provider sent.

Mounted only when ``TWOFA_ENV=dev`` with the outbox gateway: in production messages go to a
real gateway and no page lists them.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from twofa.provider.api.guards import services

router = APIRouter(tags=["development"], include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="3">
<title>Outbox — twofa</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f6fa;color:#1d2330}}
main{{max-width:760px;margin:0 auto;padding:24px}}
h1{{font-size:1.4rem;margin:0 0 4px}} p.note{{color:#5b6475;margin:0 0 20px}}
ol{{list-style:none;padding:0;margin:0;display:flex;flex-direction:column-reverse;gap:12px}}
li{{background:#fff;border-radius:12px;padding:14px 16px;box-shadow:0 1px 3px #0002}}
.meta{{font-size:.85rem;color:#5b6475;display:flex;gap:12px;flex-wrap:wrap}}
.chan{{font-weight:600;text-transform:uppercase;color:#3451b2}}
.body{{margin-top:6px;font-size:1.05rem}} .empty{{color:#5b6475}}
</style></head>
<body><main>
<h1>Outbox</h1>
<p class="note">Messages the provider sent in development. This page refreshes itself;
<code>twofa outbox</code> shows the same list.</p>
{items}
</main></body></html>"""


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request) -> HTMLResponse:
    """The outbox as a page that refreshes itself every three seconds."""
    messages = services(request).messaging.list(limit=200)
    if not messages:
        return HTMLResponse(PAGE.format(items='<p class="empty">No messages yet.</p>'))
    rows = "".join(
        f'<li><div class="meta"><span class="chan">{escape(m.channel)}</span>'
        f"<span>to {escape(m.to)}</span><time>{m.created_at:%Y-%m-%d %H:%M:%S} UTC</time></div>"
        f'<div class="body">{escape(m.body)}</div></li>'
        for m in messages
    )
    return HTMLResponse(PAGE.format(items=f"<ol>{rows}</ol>"))


@router.get("/outbox.json")
def outbox_json(request: Request) -> JSONResponse:
    """The same messages as JSON, oldest first."""
    messages = services(request).messaging.list(limit=200)
    return JSONResponse(
        [
            {
                "to": m.to,
                "channel": m.channel,
                "body": m.body,
                "created_at": m.created_at.isoformat(),
            }
            for m in messages
        ]
    )
