"""The JSON bodies of Verify resources, with absolute URLs on the public base (contract §3)."""

from __future__ import annotations

import copy
from typing import Any

from twofa.provider.verify.model import Bucket, RateLimit, Verification, VerifyService
from twofa.provider.verify.wire import twilio_date

d = twilio_date


def service_url(base: str, service: VerifyService) -> str:
    return f"{base}/v2/Services/{service.sid}"


def service_view(base: str, service: VerifyService) -> dict[str, Any]:
    url = service_url(base, service)
    config = copy.deepcopy(service.config)
    totp = config.get("totp", {})
    totp["issuer"] = totp.get("issuer") or service.friendly_name
    return {
        "sid": service.sid,
        "account_sid": service.account_sid,
        "friendly_name": service.friendly_name,
        "code_length": service.code_length,
        **config,
        "date_created": d(service.created_at),
        "date_updated": d(service.updated_at),
        "url": url,
        "links": {
            "verification_checks": f"{url}/VerificationCheck",
            "verifications": f"{url}/Verifications",
            "rate_limits": f"{url}/RateLimits",
            "messaging_configurations": f"{url}/MessagingConfigurations",
            "entities": f"{url}/Entities",
            "webhooks": f"{url}/Webhooks",
            "access_tokens": f"{url}/AccessTokens",
        },
    }


def verification_view(base: str, v: Verification) -> dict[str, Any]:
    return {
        "sid": v.sid,
        "service_sid": v.service.sid,
        "account_sid": v.service.account_sid,
        "to": v.to,
        "channel": v.channel,
        "status": v.status,
        "valid": v.valid,
        "date_created": d(v.created_at),
        "date_updated": d(v.updated_at),
        "lookup": v.lookup,
        "amount": v.amount,
        "payee": v.payee,
        "send_code_attempts": [
            {"time": d(a.time), "channel": a.channel, "attempt_sid": a.attempt_sid}
            for a in v.send_attempts
        ],
        "sna": None,
        "url": f"{service_url(base, v.service)}/Verifications/{v.sid}",
    }


def check_view(v: Verification) -> dict[str, Any]:
    return {
        "sid": v.sid,
        "service_sid": v.service.sid,
        "account_sid": v.service.account_sid,
        "to": v.to,
        "channel": v.channel,
        "status": v.status,
        "valid": v.valid,
        "amount": v.amount,
        "payee": v.payee,
        "sna_attempts_error_codes": None,
        "date_created": d(v.created_at),
        "date_updated": d(v.updated_at),
    }


def rate_limit_view(base: str, r: RateLimit) -> dict[str, Any]:
    url = f"{service_url(base, r.service)}/RateLimits/{r.sid}"
    return {
        "sid": r.sid,
        "service_sid": r.service.sid,
        "account_sid": r.service.account_sid,
        "unique_name": r.unique_name,
        "description": r.description,
        "date_created": d(r.created_at),
        "date_updated": d(r.updated_at),
        "url": url,
        "links": {"buckets": f"{url}/Buckets"},
    }


def bucket_view(base: str, b: Bucket) -> dict[str, Any]:
    limit = b.rate_limit
    return {
        "sid": b.sid,
        "rate_limit_sid": limit.sid,
        "service_sid": limit.service.sid,
        "account_sid": limit.service.account_sid,
        "max": b.max,
        "interval": b.interval,
        "date_created": d(b.created_at),
        "date_updated": d(b.updated_at),
        "url": f"{service_url(base, limit.service)}/RateLimits/{limit.sid}/Buckets/{b.sid}",
    }
