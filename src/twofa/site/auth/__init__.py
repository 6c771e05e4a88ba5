"""Sign-up, login, the second factor and the provider's callback."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
callback_bp = Blueprint("callback", __name__)

from twofa.site.auth import callback, second_factor, signup_views, views  # noqa: E402, F401  (registers routes)
