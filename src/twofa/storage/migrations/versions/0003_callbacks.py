"""one delivery queue for every outgoing signed call; circuit breaker state

``callback_deliveries`` becomes ``deliveries``: a new table rather than a reshaped one, because
its rows now carry a ``kind`` (Authy callbacks, later Web Push and Verify webhooks), a breaker
``target`` and the start of their retry window; a table named for callbacks would lie about
the rest.
Existing rows are copied (abandoned ones as failed). The apps' ``callback_failures`` and
``callback_disabled_*`` columns go: a failing receiver is paused and probed, never disabled;
its state lives in ``delivery_circuits``.

Revision ID: 0003_callbacks
Revises: 0002
Create Date: 2026-12-02 04:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0003_callbacks"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("app_id", Id, nullable=True),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", When, nullable=False),
        sa.Column("window_start", When, nullable=False),
        sa.Column("lease_until", When, nullable=True),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("finished_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_deliveries_app_id_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_deliveries_target", ["target", "status"], unique=False)
        batch_op.create_index("ix_deliveries_subject", ["subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_created_at"), ["created_at"], unique=False)

    op.create_table(
        "delivery_circuits",
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("app_id", Id, nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", When, nullable=True),
        sa.Column("paused_at", When, nullable=True),
        sa.Column("probe_at", When, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_delivery_circuits_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("target", name=op.f("pk_delivery_circuits")),
    )

    op.execute(
        """
        INSERT INTO deliveries (kind, app_id, target, subject, url, body, status, attempts,
            next_attempt_at, window_start, lease_until, leased_by, last_error, created_at,
            finished_at)
        SELECT 'authy_callback', app_id, 'app:' || CAST(app_id AS VARCHAR(20)), request_uuid,
            url, body, CASE WHEN status = 'abandoned' THEN 'failed' ELSE status END, attempts,
            next_attempt_at, created_at, lease_until, leased_by, last_error, created_at,
            CASE WHEN status = 'pending' THEN NULL ELSE COALESCE(delivered_at, next_attempt_at)
            END
        FROM callback_deliveries ORDER BY id
        """
    )
    with op.batch_alter_table("callback_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_callback_deliveries_due")
    op.drop_table("callback_deliveries")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("callback_failures")
        batch_op.drop_column("callback_disabled_at")
        batch_op.drop_column("callback_disabled_reason")


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_disabled_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("callback_disabled_at", When, nullable=True))
        batch_op.add_column(
            sa.Column("callback_failures", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "callback_deliveries",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("app_id", Id, nullable=False),
        sa.Column("request_uuid", sa.String(length=36), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", When, nullable=False),
        sa.Column("lease_until", When, nullable=True),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("delivered_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_callback_deliveries_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_deliveries")),
    )
    with op.batch_alter_table("callback_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_callback_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
    op.execute(
        """
        INSERT INTO callback_deliveries (app_id, request_uuid, url, body, status, attempts,
            next_attempt_at, lease_until, leased_by, last_error, created_at, delivered_at)
        SELECT app_id, subject, url, body, status, attempts, next_attempt_at, lease_until,
            leased_by, last_error, created_at,
            CASE WHEN status = 'delivered' THEN finished_at END
        FROM deliveries WHERE kind = 'authy_callback' AND app_id IS NOT NULL ORDER BY id
        """
    )
    op.drop_table("delivery_circuits")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_created_at"))
        batch_op.drop_index("ix_deliveries_subject")
        batch_op.drop_index("ix_deliveries_target")
        batch_op.drop_index("ix_deliveries_due")
    op.drop_table("deliveries")
