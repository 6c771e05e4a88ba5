"""The console's pages, one module each, in menu order (see the package docstring)."""

from __future__ import annotations

from twofa.provider.console.pages import (
    applications,
    audit,
    dashboard,
    home,
    keys,
    messages,
    requests,
    settings,
    signin,
)

PAGES = (signin, home, dashboard, requests, applications, messages, audit, settings, keys)
