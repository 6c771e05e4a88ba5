"""Moving users in from Authy: upload an export, read the dry run's report, then import the
same file (its SHA-256 must match the one checked). All or nothing, like ``twofa users import``.

The confirmation sends the file again rather than the server keeping it between the two
steps: nothing to store or clean up, and any provider process can take the second request.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from twofa.provider.console.auth import require
from twofa.provider.console.templating import Nav, render, services
from twofa.provider.operators.model import Operator
from twofa.provider.users.import_file import read_import

router = APIRouter()
NAV = Nav("Import", "/import", roles=("admin",))
Admin = require("admin")


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, operator: Operator = Admin, app: int = 0) -> HTMLResponse:
    return render(
        request,
        "console/import.html",
        apps=services(request).apps.all(),
        selected=app,
        report=None,
        checked="",
        filename="",
        error=None,
        limit=services(request).settings.console_import_max_bytes,
    )


@router.post("/import", response_class=HTMLResponse)
def run_import(
    request: Request,
    file: UploadFile,
    app_id: Annotated[int, Form()],
    checked: Annotated[str, Form(max_length=64)] = "",
    operator: Operator = Admin,
) -> Response:
    """Without ``checked``: a dry run. With it: the import, if the file is the one checked."""
    found = services(request)
    app = found.apps.get(app_id)
    data = file.file.read(found.settings.console_import_max_bytes + 1)
    # Bound to the application too: the file checked for one cannot be imported into another.
    digest = hashlib.sha256(f"{app.id}:".encode() + data).hexdigest()
    common: dict[str, Any] = {
        "apps": found.apps.all(),
        "selected": app.id,
        "filename": file.filename or "",
        "limit": found.settings.console_import_max_bytes,
    }
    if len(data) > found.settings.console_import_max_bytes:
        return render(
            request,
            "console/import.html",
            status=413,
            report=None,
            checked="",
            error="The file is too large: split it (a re-run skips users already imported).",
            **common,
        )
    if checked and checked != digest:
        return render(
            request,
            "console/import.html",
            status=400,
            report=None,
            checked="",
            error="This is not the file that was checked: check it again first.",
            **common,
        )
    parsed = read_import(data, filename=file.filename)
    report = found.importer.run(app=app, parsed=parsed, dry_run=not checked, actor=operator.actor)
    return render(
        request,
        "console/import.html",
        report=report,
        checked=digest if report.dry_run and report.error_count == 0 else "",
        error=None,
        **common,
    )
