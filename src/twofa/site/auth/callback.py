"""``POST /authy/callback``: the provider reports an approve or deny, signed with our API key."""

from __future__ import annotations

import logging

from flask import jsonify, request
from werkzeug.wrappers import Response

from twofa.client import validate_callback
from twofa.site.auth import callback_bp
from twofa.site.errors import InvalidCallback, UnknownApproval
from twofa.site.services import services

log = logging.getLogger(__name__)


@callback_bp.post("/authy/callback")
def authy_callback() -> tuple[Response, int]:
    """Settle the login attempt that owns the approval request.

    Example request (headers ``X-Authy-Signature``, ``X-Authy-Signature-Nonce``)::

        {"authy_id": 1635, "uuid": "1836762c-...", "status": "approved", ...}

    Answers 200 ``{"ok": true}``; 400 for a missing, wrong or stale signature or a malformed
    body; 404 for a uuid no login of ours owns. It never answers 500: the provider disables
    callbacks that keep failing, and a crash here must not stop logins.
    """
    svc = services()
    try:
        payload = request.get_json(silent=True)
        settings = svc.settings
        api_key = settings.site_api_key.get_secret_value() if settings.site_api_key else ""
        public = settings.site_public_url.rstrip("/")
        url = public + request.path if public else request.base_url
        valid = bool(api_key) and validate_callback(
            api_key=api_key,
            signature=request.headers.get("X-Authy-Signature"),
            nonce=request.headers.get("X-Authy-Signature-Nonce"),
            method=request.method,
            url=url,
            params=payload if isinstance(payload, dict) else None,
            max_age=settings.site_callback_max_age,
        )
        if not valid or not isinstance(payload, dict):
            return jsonify(ok=False, error="invalid signature"), 400
        status = svc.auth.handle_callback(
            uuid=payload.get("uuid"), authy_id=payload.get("authy_id"), status=payload.get("status")
        )
    except InvalidCallback:
        return jsonify(ok=False, error="invalid callback"), 400
    except UnknownApproval:
        return jsonify(ok=False, error="unknown approval request"), 404
    except Exception:
        log.exception("callback failed")
        return jsonify(ok=False, error="temporarily unavailable"), 503
    return jsonify(ok=True, status=status), 200
