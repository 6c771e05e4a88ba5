"""The console's pages, one module each, in menu order (see the package docstring)."""

from __future__ import annotations

from twofa.provider.console.pages import (
    application,
    applications,
    audit,
    dashboard,
    home,
    imports,
    keys,
    messages,
    operators,
    requests,
    settings,
    signin,
    users,
)

PAGES = (
    signin,
    home,
    dashboard,
    requests,
    applications,
    application,
    users,
    imports,
    messages,
    audit,
    settings,
    operators,
    keys,
)
