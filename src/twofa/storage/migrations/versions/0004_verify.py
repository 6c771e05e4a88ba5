"""Twilio Verify v2: credentials, services, verifications, rate limits, TOTP factors, webhooks

Revision ID: 0004_verify
Revises: 0003_webpush
Create Date: 2026-12-02 04:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0004_verify"
down_revision = "0003_webpush"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def _table(name, *columns, **kw):
    op.create_table(
        name,
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("sid", name=op.f(f"uq_{name}_sid")),
        sqlite_autoincrement=True,
        **kw,
    )


def _fk(name, column, table):
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_{name}_{column}_{table}"), ondelete="CASCADE"
    )


def _stamps():
    return [
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("to", existing_type=sa.String(length=20), type_=sa.String(length=320))

    _table(
        "verify_credentials",
        sa.Column("app_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("friendly_name", sa.String(length=64), nullable=True),
        sa.Column("secret_salt", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("revoked_at", When, nullable=True),
        _fk("verify_credentials", "app_id", "apps"),
    )
    op.create_index(
        op.f("ix_verify_credentials_app_id"), "verify_credentials", ["app_id"], unique=False
    )
    _table(
        "verify_services",
        sa.Column("app_id", Id, nullable=False),
        sa.Column("friendly_name", sa.String(length=64), nullable=False),
        sa.Column("code_length", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        *_stamps(),
        sa.Column("deleted_at", When, nullable=True),
        _fk("verify_services", "app_id", "apps"),
    )
    op.create_index(op.f("ix_verify_services_app_id"), "verify_services", ["app_id"], unique=False)
    _table(
        "verify_verifications",
        sa.Column("service_id", Id, nullable=False),
        sa.Column("to", sa.String(length=320), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("code_enc", sa.Text(), nullable=False),
        sa.Column("amount", sa.String(length=64), nullable=True),
        sa.Column("payee", sa.String(length=128), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("lookup", sa.JSON(), nullable=False),
        sa.Column("send_attempts", sa.JSON(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        *_stamps(),
        sa.Column("expires_at", When, nullable=False),
        _fk("verify_verifications", "service_id", "verify_services"),
    )
    op.create_index(
        "uq_verify_verifications_pending",
        "verify_verifications",
        ["service_id", "to"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    _table(
        "verify_rate_limits",
        sa.Column("service_id", Id, nullable=False),
        sa.Column("unique_name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        *_stamps(),
        _fk("verify_rate_limits", "service_id", "verify_services"),
        sa.UniqueConstraint("service_id", "unique_name", name="uq_verify_rate_limits_name"),
    )
    _table(
        "verify_buckets",
        sa.Column("rate_limit_id", Id, nullable=False),
        sa.Column("max", sa.Integer(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        *_stamps(),
        _fk("verify_buckets", "rate_limit_id", "verify_rate_limits"),
        sa.UniqueConstraint("rate_limit_id", "interval", name="uq_verify_buckets_interval"),
    )
    _table(
        "verify_entities",
        sa.Column("service_id", Id, nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        *_stamps(),
        _fk("verify_entities", "service_id", "verify_services"),
        sa.UniqueConstraint("service_id", "identity", name="uq_verify_entities_identity"),
    )
    _table(
        "verify_factors",
        sa.Column("entity_id", Id, nullable=False),
        sa.Column("factor_type", sa.String(length=10), nullable=False),
        sa.Column("friendly_name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        *_stamps(),
        _fk("verify_factors", "entity_id", "verify_entities"),
    )
    _table(
        "verify_challenges",
        sa.Column("entity_id", Id, nullable=False),
        sa.Column("factor_id", Id, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("responded_reason", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("hidden_details", sa.JSON(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        *_stamps(),
        sa.Column("responded_at", When, nullable=True),
        sa.Column("expires_at", When, nullable=False),
        _fk("verify_challenges", "entity_id", "verify_entities"),
        _fk("verify_challenges", "factor_id", "verify_factors"),
    )
    op.create_index(
        "ix_verify_challenges_entity", "verify_challenges", ["entity_id", "id"], unique=False
    )
    _table(
        "verify_webhooks",
        sa.Column("service_id", Id, nullable=False),
        sa.Column("friendly_name", sa.String(length=64), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.String(length=4), nullable=False),
        *_stamps(),
        _fk("verify_webhooks", "service_id", "verify_services"),
    )
    op.create_table(
        "verify_messaging_configurations",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("service_id", Id, nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("messaging_service_sid", sa.String(length=34), nullable=False),
        *_stamps(),
        _fk("verify_messaging_configurations", "service_id", "verify_services"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verify_messaging_configurations")),
        sa.UniqueConstraint(
            "service_id", "country", name="uq_verify_messaging_configurations_country"
        ),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for name in (
        "verify_messaging_configurations",
        "verify_webhooks",
        "verify_challenges",
        "verify_factors",
        "verify_entities",
        "verify_buckets",
        "verify_rate_limits",
        "verify_verifications",
        "verify_services",
        "verify_credentials",
    ):
        op.drop_table(name)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("to", existing_type=sa.String(length=320), type_=sa.String(length=20))
