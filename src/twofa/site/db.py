"""The site's own tables (SQLAlchemy Core) and its Alembic upgrade.

The site keeps no provider data beyond each user's ``authy_id``: it shares no table with the
provider, and its migrations use their own version table so both may live in one database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from twofa.storage import engine

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "site_alembic_version"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

When = DateTime(timezone=True)

users = Table(
    "site_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("full_name", String(100), nullable=False),
    Column("country_code", Integer, nullable=False),
    Column("region", String(2), nullable=False),
    Column("phone", String(30), nullable=False),
    Column("authy_id", Integer, nullable=False),
    Column("created_at", When, nullable=False),
)

# One row per login that passed the password step. The browser holds a random token whose
# SHA-256 is ``token_hash``; that token, not a user id, is what a half-logged-in session has.
login_attempts = Table(
    "site_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("site_users.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(16), nullable=False),  # open | completed | cancelled
    Column("created_at", When, nullable=False),
    Column("expires_at", When, nullable=False),
    Column("next_url", String(500)),
    Column("ip", String(64)),
    Column("user_agent", String(300)),
    Column("approval_uuid", String(64), unique=True),
    Column("approval_status", String(16)),  # pending | approved | denied | expired
    Column("approval_number", Integer),
    Column("approval_expires_at", When),
    Column("code_channel", String(8)),  # sms | call | app
    Column("code_destination", String(40)),
    Column("code_sent_at", When),
    Column("code_sends", Integer, nullable=False, default=0),
    Column("code_failures", Integer, nullable=False, default=0),
    Column("method", String(16)),  # how it completed: push | sms | call | app
    Column("completed_at", When),
    Index("ix_site_login_attempts_user_created", "user_id", "created_at"),
)

# Server-side state of a logged-in browser: revoking the row logs that browser out, so a copied
# cookie stops working at logout.
sessions = Table(
    "site_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("site_users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", When, nullable=False),
    Column("expires_at", When, nullable=False),
    Column("revoked_at", When),
)

# One row per failed password, keyed by the account (SHA-256 of the e-mail address, so typing
# someone else's address leaves no readable trace) and by the client's address (an IPv6 /64).
login_failures = Table(
    "site_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_hash", String(64), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("created_at", When, nullable=False),
    Index("ix_site_login_failures_account_created", "account_hash", "created_at"),
    Index("ix_site_login_failures_ip_created", "ip", "created_at"),
)

# A sign-up waiting for its phone to be confirmed. Nothing is registered at the provider until
# the code is right; the browser holds a random token whose SHA-256 is ``token_hash``.
signups = Table(
    "site_signups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("state", String(16), nullable=False),  # pending | confirmed | cancelled
    Column("email", String(254), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("full_name", String(100), nullable=False),
    Column("country_code", Integer, nullable=False),
    Column("region", String(2), nullable=False),
    Column("phone", String(30), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("created_at", When, nullable=False),
    Column("expires_at", When, nullable=False),
    Column("code_sent_at", When),
    Column("code_failures", Integer, nullable=False, default=0),
    Index("ix_site_signups_ip_created", "ip", "created_at"),
)

# Proof-of-work challenges already used: each is good for one form submission.
spent_challenges = Table(
    "site_spent_challenges",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", When, nullable=False, index=True),
)


def alembic_config(url: str) -> Any:
    """An Alembic config for the site's packaged migrations."""
    return engine.alembic_config(url, MIGRATIONS)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the site database at ``url`` up to ``revision`` (idempotent)."""
    engine.upgrade(url, revision, migrations=MIGRATIONS)
