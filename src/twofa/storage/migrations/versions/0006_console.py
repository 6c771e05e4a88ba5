"""operator console: operators, their WebAuthn credentials, sessions and challenges; audit
actor; application defaults for OneTouch (number matching, time to expire)

Revision ID: 0006_console
Revises: 0005_sandbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_console"
down_revision = "0005_sandbox"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(
            sa.Column("number_matching", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("onetouch_ttl", sa.Integer(), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=100), nullable=True))
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"], unique=False)
    op.create_table(
        "operators",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("totp_secret_enc", sa.Text(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("disabled_at", When, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("name", name=op.f("uq_operators_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "operator_credentials",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("operator_id", Id, nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("last_used_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_credentials_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_credentials")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_operator_credentials_credential_id")),
    )
    op.create_index(
        "ix_operator_credentials_operator", "operator_credentials", ["operator_id"], unique=False
    )
    op.create_table(
        "operator_sessions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", Id, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("seen_at", When, nullable=False),
        sa.Column("verified_at", When, nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("ended_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_sessions_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_operator_sessions_token_hash")),
    )
    op.create_index(
        "ix_operator_sessions_operator", "operator_sessions", ["operator_id"], unique=False
    )
    op.create_table(
        "operator_challenges",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("challenge", sa.String(length=100), nullable=False),
        sa.Column("operator_id", Id, nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_challenges_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_challenges")),
        sa.UniqueConstraint("challenge", name=op.f("uq_operator_challenges_challenge")),
    )
    op.create_index(
        op.f("ix_operator_challenges_expires_at"),
        "operator_challenges",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_operator_challenges_expires_at"), table_name="operator_challenges")
    op.drop_table("operator_challenges")
    op.drop_index("ix_operator_sessions_operator", table_name="operator_sessions")
    op.drop_table("operator_sessions")
    op.drop_index("ix_operator_credentials_operator", table_name="operator_credentials")
    op.drop_table("operator_credentials")
    op.drop_table("operators")
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("actor")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("onetouch_ttl")
        batch.drop_column("number_matching")
