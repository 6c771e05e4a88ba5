"""site users, login attempts and sessions

Revision ID: 0001
Revises:
Create Date: 2026-11-26 11:50:20.378408
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=100), nullable=False),
        sa.Column("country_code", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("authy_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_users")),
        sa.UniqueConstraint("email", name=op.f("uq_site_users_email")),
    )
    op.create_table(
        "site_login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_url", sa.String(length=500), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("approval_uuid", sa.String(length=64), nullable=True),
        sa.Column("approval_status", sa.String(length=16), nullable=True),
        sa.Column("approval_number", sa.Integer(), nullable=True),
        sa.Column("approval_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_channel", sa.String(length=8), nullable=True),
        sa.Column("code_destination", sa.String(length=40), nullable=True),
        sa.Column("code_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_sends", sa.Integer(), nullable=False),
        sa.Column("code_failures", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["site_users.id"],
            name=op.f("fk_site_login_attempts_user_id_site_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_login_attempts")),
        sa.UniqueConstraint("approval_uuid", name=op.f("uq_site_login_attempts_approval_uuid")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_site_login_attempts_token_hash")),
    )
    op.create_index(
        "ix_site_login_attempts_user_created", "site_login_attempts", ["user_id", "created_at"]
    )
    op.create_table(
        "site_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["site_users.id"],
            name=op.f("fk_site_sessions_user_id_site_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_site_sessions_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("site_sessions")
    op.drop_index("ix_site_login_attempts_user_created", table_name="site_login_attempts")
    op.drop_table("site_login_attempts")
    op.drop_table("site_users")
