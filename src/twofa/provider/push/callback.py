"""The callback an application receives when a device answers (contract section 4.2)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from twofa.provider.apps.model import App
from twofa.provider.deliveries import store
from twofa.provider.deliveries.authy import KIND, app_target
from twofa.provider.push.model import ApprovalRequest, Decision
from twofa.provider.users.model import User
from twofa.storage.database import utcnow


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


def enqueue_callback(conn: Connection, app: App, request_uuid: str, body: dict[str, Any]) -> bool:
    """Queue the callback in the decision's transaction; False when the app has no callback."""
    if not app.callback_url:
        return False
    store.enqueue(
        conn,
        kind=KIND,
        app_id=app.id,
        target=app_target(app.id),
        subject=request_uuid,
        url=app.callback_url,
        body=body,
        now=utcnow(),
    )
    return True
