"""The console's pages, one module each, in menu order (see the package docstring)."""

from __future__ import annotations

from twofa.provider.console.pages import application, applications, home, keys, signin, users

PAGES = (signin, home, applications, application, users, keys)
