"""The tutorial's Flask site, rebuilt: sign-up, password login, push or code, account page."""

from twofa.site.app import create_app

__all__ = ["create_app"]
