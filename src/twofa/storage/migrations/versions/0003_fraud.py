"""fraud guard: attempt cap on phone verifications, per-app countries, pumping traffic and blocks

Revision ID: 0003_fraud
Revises: 0003_callbacks
"""

from alembic import op
import sqlalchemy as sa


revision = "0003_fraud"
down_revision = "0003_callbacks"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("phone_verifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allowed_countries", sa.String(length=1000), nullable=True))
    op.create_table(
        "fraud_traffic",
        sa.Column("app_id", Id, nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("conversions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_fraud_traffic_app_id_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("app_id", "prefix", "bucket", name=op.f("pk_fraud_traffic")),
    )
    op.create_table(
        "fraud_blocks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("app_id", Id, nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("conversions", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_fraud_blocks_app_id_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_blocks")),
    )
    op.create_index("ix_fraud_blocks_lookup", "fraud_blocks", ["app_id", "prefix"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_fraud_blocks_lookup", table_name="fraud_blocks")
    op.drop_table("fraud_blocks")
    op.drop_table("fraud_traffic")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("allowed_countries")
    with op.batch_alter_table("phone_verifications", schema=None) as batch_op:
        batch_op.drop_column("attempts")
