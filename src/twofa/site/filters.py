"""Small Jinja filters for showing times, phone numbers and sign-in methods."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from twofa.site.phones import masked

METHOD_LABELS = {
    "push": "Push approval",
    "app": "App code",
    "sms": "Text message code",
    "call": "Voice call code",
    "code": "Code",
}


def when(value: datetime | None) -> str:
    return value.strftime("%d %b %Y, %H:%M UTC") if value else "—"


def method_label(value: str | None) -> str:
    return METHOD_LABELS.get(value or "", "Push request")


def browser(user_agent: str | None) -> str:
    """A short, readable browser name from a User-Agent string."""
    ua = user_agent or ""
    for name in ("Edg", "Firefox", "Chrome", "Safari"):
        if name in ua:
            return {"Edg": "Edge"}.get(name, name)
    return ""


def init_app(app: Flask) -> None:
    app.add_template_filter(when)
    app.add_template_filter(method_label)
    app.add_template_filter(browser)
    app.add_template_filter(masked, "mask_phone")
