"""The Authy callback of a decision (contract section 4.2), queued with the decision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from twofa.provider.deliveries import store
from twofa.provider.deliveries.authy import KIND, app_target
from twofa.storage.database import utcnow

if TYPE_CHECKING:
    from twofa.provider.apps.service import App
    from twofa.provider.push.model import ApprovalRequest
    from twofa.provider.push.service import Decision
    from twofa.provider.users.service import User


def callback_body(
    app: App, user: User, request: ApprovalRequest, decision: Decision
) -> dict[str, Any]:
    """The JSON body Authy POSTed on a decision; the tutorial reads ``authy_id`` and ``status``."""
    created = int(request.created_at.timestamp())
    return {
        "authy_id": user.id,
        "device_uuid": decision.device_uuid,
        "callback_action": "approval_request_status",
        "uuid": request.uuid,
        "status": decision.status,
        "approval_request": {
            "transaction": {
                "details": request.details,
                "device_details": {},
                "device_geolocation": "",
                "device_signing_time": decision.signing_time,
                "encrypted": False,
                "flagged": False,
                "hidden_details": request.hidden_details,
                "message": request.message,
                "reason": "",
                "requester_details": None,
                "status": decision.status,
                "uuid": request.uuid,
                "created_at_time": created,
                "customer_uuid": app.id,
            },
            "expiration_timestamp": (
                int(request.expires_at.timestamp()) if request.expires_at else None
            ),
            "logos": request.logos or None,
            "app_id": app.public_id,
        },
        "signature": decision.signature,
        "device": decision.device_json,
    }


def enqueue_callback(
    conn: Connection, app: App, user: User, request: ApprovalRequest, decision: Decision
) -> bool:
    """Queue the callback in the decision's transaction; False when the app has no callback."""
    if not app.callback_url:
        return False
    store.enqueue(
        conn,
        kind=KIND,
        app_id=app.id,
        target=app_target(app.id),
        subject=request.uuid,
        url=app.callback_url,
        body=callback_body(app, user, request, decision),
        now=utcnow(),
    )
    return True
