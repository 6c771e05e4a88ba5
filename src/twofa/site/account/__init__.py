"""The signed-in user's page."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from twofa.site.account import views  # noqa: E402, F401  (registers routes)
