"""login failures, pending sign-ups and spent proof-of-work challenges

Revision ID: 0002_site
Revises: 0001
Create Date: 2026-12-02 05:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_site"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_hash", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_login_failures")),
    )
    op.create_index(
        "ix_site_login_failures_account_created",
        "site_login_failures",
        ["account_hash", "created_at"],
    )
    op.create_index(
        "ix_site_login_failures_ip_created", "site_login_failures", ["ip", "created_at"]
    )
    op.create_table(
        "site_signups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=100), nullable=False),
        sa.Column("country_code", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_signups")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_site_signups_token_hash")),
    )
    op.create_index("ix_site_signups_ip_created", "site_signups", ["ip", "created_at"])
    op.create_table(
        "site_spent_challenges",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_site_spent_challenges")),
    )
    op.create_index(
        op.f("ix_site_spent_challenges_expires_at"), "site_spent_challenges", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_site_spent_challenges_expires_at"), table_name="site_spent_challenges")
    op.drop_table("site_spent_challenges")
    op.drop_index("ix_site_signups_ip_created", table_name="site_signups")
    op.drop_table("site_signups")
    op.drop_index("ix_site_login_failures_ip_created", table_name="site_login_failures")
    op.drop_index("ix_site_login_failures_account_created", table_name="site_login_failures")
    op.drop_table("site_login_failures")
