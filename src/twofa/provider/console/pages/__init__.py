"""The console's pages, one module each, in menu order (see the package docstring)."""

from __future__ import annotations

from twofa.provider.console.pages import applications, home, keys, signin

PAGES = (signin, home, applications, keys)
