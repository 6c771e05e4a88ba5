"""The Verify dialect's services, wired once from the provider's shared ones."""

from __future__ import annotations

from dataclasses import dataclass

from twofa.crypto import Keyring
from twofa.provider.audit.service import AuditLog
from twofa.provider.fraud.guard import FraudGuard
from twofa.provider.messaging import MessagingService
from twofa.provider.ratelimit import Limits
from twofa.provider.verify.accounts import VerifyAccounts
from twofa.provider.verify.catalog import ServiceCatalog
from twofa.provider.verify.challenges import ChallengeService
from twofa.provider.verify.factors import FactorService
from twofa.provider.verify.messaging_configs import MessagingConfigurations
from twofa.provider.verify.ratelimits import BucketGuard, RateLimitService
from twofa.provider.verify.verifications import VerificationService
from twofa.provider.verify.webhook_sender import enqueue_webhook
from twofa.provider.verify.webhooks import WebhookService
from twofa.settings import Settings
from twofa.storage.database import Database


@dataclass(frozen=True, slots=True)
class Verify:
    accounts: VerifyAccounts
    services: ServiceCatalog
    verifications: VerificationService
    rate_limits: RateLimitService
    factors: FactorService
    challenges: ChallengeService
    webhooks: WebhookService
    messaging: MessagingConfigurations


def build_verify(
    db: Database,
    keyring: Keyring,
    settings: Settings,
    messaging: MessagingService,
    limits: Limits,
    audit: AuditLog,
    guard: FraudGuard | None = None,
) -> Verify:
    """Verify shares the provider's codes key, gateways, limiter and audit log."""
    webhooks = WebhookService(db, allow_private=settings.allow_private_callbacks)
    webhooks.enqueue = enqueue_webhook
    factors = FactorService(db, keyring, audit, webhooks)
    return Verify(
        accounts=VerifyAccounts(db, keyring, allow_sandbox=settings.sandbox_allowed),
        services=ServiceCatalog(db, audit),
        verifications=VerificationService(
            db,
            keyring,
            messaging,
            limits,
            BucketGuard(db, limits),
            audit,
            ttl=settings.verify_code_ttl,
            guard=guard,
        ),
        rate_limits=RateLimitService(db),
        factors=factors,
        challenges=ChallengeService(db, factors, audit),
        webhooks=webhooks,
        messaging=MessagingConfigurations(db),
    )
