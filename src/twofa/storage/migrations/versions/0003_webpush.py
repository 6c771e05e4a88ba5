"""web push: the deployment's VAPID key and one push subscription per device

Revision ID: 0003_webpush
Revises: 0003_devices
Create Date: 2026-12-02 04:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_webpush"
down_revision = "0003_devices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webpush_keys",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("private_key_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webpush_keys")),
    )
    op.create_table(
        "webpush_subscriptions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("endpoint", sa.String(length=2000), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=False),
        sa.Column("auth", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_webpush_subscriptions_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webpush_subscriptions")),
        sa.UniqueConstraint("device_id", name=op.f("uq_webpush_subscriptions_device_id")),
    )


def downgrade() -> None:
    op.drop_table("webpush_subscriptions")
    op.drop_table("webpush_keys")
