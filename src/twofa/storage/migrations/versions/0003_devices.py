"""device trust: key thumbprints, devices awaiting approval, open streams, app settings

Revision ID: 0003_devices
Revises: 0003_fraud
"""

import base64
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0003_devices"
down_revision = "0003_fraud"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint of an EC public JWK (the same as devices/signature.py computes)."""
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    text = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(text).digest()).rstrip(b"=").decode()


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("key_thumbprint", sa.String(64), nullable=True))
        batch.add_column(sa.Column("state", sa.String(10), nullable=False, server_default="active"))
        batch.add_column(sa.Column("approval_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("registered_ip", sa.String(64), nullable=True))
        batch.add_column(sa.Column("decided_by", Id, nullable=True))
        batch.add_column(sa.Column("decided_at", When, nullable=True))
        batch.create_index("ix_devices_revoked_at", ["revoked_at"])
    conn = op.get_bind()
    devices = sa.table(
        "devices", sa.column("id"), sa.column("public_key", sa.JSON), sa.column("key_thumbprint")
    )
    seen: set[str] = set()
    for row in conn.execute(sa.select(devices.c.id, devices.c.public_key).order_by(devices.c.id)):
        key = row.public_key if isinstance(row.public_key, dict) else json.loads(row.public_key)
        print_ = thumbprint(key)
        if print_ in seen:
            continue  # an older duplicate keeps the thumbprint; new enrolments of it are refused
        seen.add(print_)
        conn.execute(devices.update().where(devices.c.id == row.id).values(key_thumbprint=print_))
    with op.batch_alter_table("devices") as batch:
        batch.create_unique_constraint("uq_devices_key_thumbprint", ["key_thumbprint"])
    with op.batch_alter_table("apps") as batch:
        batch.add_column(
            sa.Column("multi_device", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("number_choices", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "device_streams",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column(
            "device_id",
            Id,
            sa.ForeignKey(
                "devices.id", ondelete="CASCADE", name="fk_device_streams_device_id_devices"
            ),
            nullable=False,
        ),
        sa.Column("opened_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_device_streams"),
    )
    op.create_index("ix_device_streams_device_id", "device_streams", ["device_id"])


def downgrade() -> None:
    op.drop_index("ix_device_streams_device_id", table_name="device_streams")
    op.drop_table("device_streams")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("number_choices")
        batch.drop_column("multi_device")
    with op.batch_alter_table("devices") as batch:
        batch.drop_constraint("uq_devices_key_thumbprint", type_="unique")
        batch.drop_index("ix_devices_revoked_at")
        for column in (
            "decided_at",
            "decided_by",
            "registered_ip",
            "approval_number",
            "state",
            "key_thumbprint",
        ):
            batch.drop_column(column)
