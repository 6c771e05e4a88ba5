"""The JSON bodies of entities, factors and challenges (contract §3.6)."""

from __future__ import annotations

from typing import Any

from twofa.provider.verify.factor_model import Challenge, Entity, Factor, NewFactor
from twofa.provider.verify.views import service_url
from twofa.provider.verify.wire import twilio_date as d


def entity_url(base: str, entity: Entity) -> str:
    return f"{service_url(base, entity.service)}/Entities/{entity.identity}"


def entity_view(base: str, entity: Entity) -> dict[str, Any]:
    url = entity_url(base, entity)
    return {
        "sid": entity.sid,
        "identity": entity.identity,
        "account_sid": entity.service.account_sid,
        "service_sid": entity.service.sid,
        "date_created": d(entity.created_at),
        "date_updated": d(entity.updated_at),
        "url": url,
        "links": {
            "factors": f"{url}/Factors",
            "new_factors": f"{url}/Factors",
            "challenges": f"{url}/Challenges",
        },
    }


def factor_view(base: str, factor: Factor) -> dict[str, Any]:
    entity = factor.entity
    return {
        "sid": factor.sid,
        "account_sid": entity.service.account_sid,
        "service_sid": entity.service.sid,
        "entity_sid": entity.sid,
        "identity": entity.identity,
        "date_created": d(factor.created_at),
        "date_updated": d(factor.updated_at),
        "friendly_name": factor.friendly_name,
        "status": factor.status,
        "factor_type": factor.factor_type,
        "config": factor.config,
        "metadata": factor.metadata,
        "url": f"{entity_url(base, entity)}/Factors/{factor.sid}",
    }


def new_factor_view(base: str, created: NewFactor) -> dict[str, Any]:
    """The only body that carries ``binding``: the secret is shown this once."""
    return {
        **factor_view(base, created.factor),
        "binding": {"secret": created.secret, "uri": created.uri},
        "options": None,
    }


def challenge_view(base: str, c: Challenge) -> dict[str, Any]:
    entity = c.entity
    url = f"{entity_url(base, entity)}/Challenges/{c.sid}"
    return {
        "sid": c.sid,
        "account_sid": entity.service.account_sid,
        "service_sid": entity.service.sid,
        "entity_sid": entity.sid,
        "identity": entity.identity,
        "factor_sid": c.factor.sid,
        "date_created": d(c.created_at),
        "date_updated": d(c.updated_at),
        "date_responded": d(c.responded_at),
        "expiration_date": d(c.expires_at),
        "status": c.status,
        "responded_reason": c.responded_reason,
        "details": c.details,
        "hidden_details": c.hidden_details,
        "metadata": None,
        "factor_type": c.factor.factor_type,
        "url": url,
        "links": {"notifications": f"{url}/Notifications"},
    }
