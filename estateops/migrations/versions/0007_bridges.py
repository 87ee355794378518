"""Bridges: the names Zigbee2MQTT and OCPP chargers know registered devices by.

Written to match registry/tables.py's BridgeLink exactly (tests compare the two).

Revision ID: 0007_bridges
Revises: 0005_notify_residents
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_bridges"
down_revision: str | Sequence[str] | None = "0006_rule_clock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bridge_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("bridge", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["devices.id"], name=op.f("fk_bridge_links_device_pk_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bridge_links")),
        sa.UniqueConstraint("bridge", "address", name=op.f("uq_bridge_links_bridge")),
        sa.UniqueConstraint("device_pk", "bridge", name=op.f("uq_bridge_links_device_pk")),
    )


def downgrade() -> None:
    op.drop_table("bridge_links")
