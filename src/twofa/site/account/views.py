"""``/account``: who you are, your factors, your recent sign-ins."""

from __future__ import annotations

from flask import render_template

from twofa.site.account import bp
from twofa.site.auth.forms import ActionForm
from twofa.site.auth.session import current_user, login_required
from twofa.site.services import services


@bp.get("/account")
@login_required
def account() -> str:
    overview = services().account.overview(current_user())
    return render_template("account/account.html", overview=overview, form=ActionForm())
