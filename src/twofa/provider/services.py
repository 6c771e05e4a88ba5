"""The provider's services, built once from settings and shared by routes, workers and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twofa.crypto import Keyring
from twofa.events import EventBus, make_bus
from twofa.provider.apps.service import AppService
from twofa.provider.audit.service import AuditLog
from twofa.provider.codes.service import CodeService
from twofa.provider.codes.store import VerificationStore
from twofa.provider.codes.usage import UsageCounters
from twofa.provider.codes.verification import TokenVerifier
from twofa.provider.deliveries.authy import AuthyCallbackSender
from twofa.provider.deliveries.dispatcher import DeliveryDispatcher
from twofa.provider.deliveries.model import Sender
from twofa.provider.devices import approvals
from twofa.provider.devices.auth import RequestAuthenticator
from twofa.provider.devices.registration import RegistrationService
from twofa.provider.devices.service import DeviceService
from twofa.provider.fraud.guard import FraudGuard
from twofa.provider.messaging import MessagingService, make_gateway
from twofa.provider.messaging.email import make_email_gateway
from twofa.provider.observability import metrics
from twofa.provider.operators.passkeys import OperatorPasskeys
from twofa.provider.operators.service import OperatorService
from twofa.provider.operators.sessions import ConsoleSessions
from twofa.provider.phones.service import PhoneVerificationService
from twofa.provider.push.service import PushService
from twofa.provider.push.view import number_key
from twofa.provider.ratelimit import Limits, make_limits
from twofa.provider.reports.service import ReportService
from twofa.provider.retention import Retention
from twofa.provider.users.importer import UserImporter
from twofa.provider.users.service import UserService
from twofa.provider.verify.bundle import Verify, build_verify
from twofa.provider.verify.webhook_sender import VerifyWebhookSender
from twofa.provider.webpush.queue import MESSAGES, WebPushSender
from twofa.provider.webpush.service import WebPushService, tls_context
from twofa.provider.webpush.store import WebPushStore
from twofa.settings import Settings
from twofa.storage.database import Database
from twofa.storage.engine import make_async_engine, make_engine


@dataclass
class Services:
    settings: Settings
    db: Database
    keyring: Keyring
    bus: EventBus
    limits: Limits
    audit: AuditLog
    fraud: FraudGuard
    apps: AppService
    users: UserService
    importer: UserImporter
    messaging: MessagingService
    codes: CodeService
    phones: PhoneVerificationService
    push: PushService
    deliveries: DeliveryDispatcher
    retention: Retention
    devices: DeviceService
    verify: Verify
    webpush: WebPushService
    operators: OperatorService
    console_sessions: ConsoleSessions
    passkeys: OperatorPasskeys
    reports: ReportService

    def close(self) -> None:
        self.db.dispose()


def build_services(settings: Settings, *, bus: EventBus | None = None) -> Services:
    """Wire every service from settings: storage, keys, bus, limits and gateways."""
    db = Database(
        make_engine(
            settings.provider_database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            lock_timeout=settings.db_lock_timeout,
        ),
        lock_timeout=settings.db_lock_timeout,
        on_hop=metrics.DB_THREAD_HOPS.inc,
        async_engine=make_async_engine(
            settings.provider_database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        ),
    )
    keyring = Keyring(settings.key)
    audit = AuditLog(db)
    limits = make_limits(settings, on_limited=audit.rate_limited)
    fraud = FraudGuard(db, settings, audit)
    messaging = MessagingService(db, make_gateway(settings), make_email_gateway(settings))
    # While Redis is down, the bus replays approval-request changes and device revocations
    # read from the database.
    requests_feed = PushService.feed(db, number_key(settings))

    def feed(since: float) -> list[tuple[str, dict[str, Any]]]:
        return requests_feed(since) + approvals.changes_since(db, since)

    bus = bus or make_bus(settings.redis_url, feed=feed)
    push = PushService(db, settings, bus, limits, audit)
    webpush = WebPushService(WebPushStore(db), keyring, settings)
    usage = UsageCounters(db)
    verifier = TokenVerifier(
        VerificationStore(db), keyring, settings, limits, audit, usage, guard=fraud
    )
    registrations = RegistrationService(
        db, keyring, settings, messaging, limits, audit, guard=fraud
    )
    verify = build_verify(db, keyring, settings, messaging, limits, audit, guard=fraud)
    senders: dict[str, Sender] = {
        AuthyCallbackSender.kind: AuthyCallbackSender(keyring),
        VerifyWebhookSender.kind: VerifyWebhookSender(verify.accounts),
        **{kind: WebPushSender(webpush, kind) for kind in MESSAGES},
    }
    return Services(
        settings=settings,
        db=db,
        keyring=keyring,
        bus=bus,
        limits=limits,
        audit=audit,
        fraud=fraud,
        apps=AppService(
            db,
            keyring,
            allow_private_callbacks=settings.allow_private_callbacks,
            allow_sandbox=settings.sandbox_allowed,
            audit=audit,
        ),
        users=UserService(db, keyring, settings, audit),
        importer=UserImporter(db, keyring, settings, audit),
        messaging=messaging,
        codes=CodeService(
            db, keyring, settings, messaging, limits, audit, usage, verifier, guard=fraud
        ),
        phones=PhoneVerificationService(db, keyring, settings, messaging, limits, fraud),
        push=push,
        deliveries=DeliveryDispatcher(db, settings, audit, senders, verify=tls_context(settings)),
        retention=Retention(db, settings),
        devices=DeviceService(
            db,
            keyring,
            settings,
            push,
            bus,
            audit,
            registrations,
            RequestAuthenticator(db),
            approvals.DeviceApprovals(db, bus, messaging, audit),
        ),
        verify=verify,
        webpush=webpush,
        operators=OperatorService(db, keyring, settings, audit),
        console_sessions=ConsoleSessions(db, settings, audit),
        passkeys=OperatorPasskeys(db, audit),
        reports=ReportService(db, audit, settings),
    )
