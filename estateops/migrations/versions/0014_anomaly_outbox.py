"""Durable rule effects: the anomaly outbox, and the seq de-duplication saved with the rule
state (seq windows per device, recent messages without seq).

Written to match gateway/rules/tables.py exactly (tests compare the two).

Revision ID: 0014_anomaly_outbox
Revises: 0013_staff_token_generation
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_anomaly_outbox"
down_revision: str | Sequence[str] | None = "0013_staff_token_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _anomaly_outbox() -> None:
    op.create_table(
        "anomaly_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("anomaly", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomaly_outbox")),
    )
    op.create_index("ix_anomaly_outbox_owner_id", "anomaly_outbox", ["owner", "id"])


def _seq_windows() -> None:
    op.create_table(
        "seq_windows",
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
        sa.Column("seen", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["devices.id"], name=op.f("fk_seq_windows_device_pk_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_pk", name=op.f("pk_seq_windows")),
    )


def _recent_messages() -> None:
    op.create_table(
        "recent_messages",
        sa.Column("digest", sa.LargeBinary(length=16), nullable=False),
        sa.Column("received_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_recent_messages")),
    )
    op.create_index(op.f("ix_recent_messages_received_ns"), "recent_messages",
                    ["received_ns"])


def upgrade() -> None:
    _anomaly_outbox()
    _seq_windows()
    _recent_messages()


def downgrade() -> None:
    op.drop_index(op.f("ix_recent_messages_received_ns"), table_name="recent_messages")
    op.drop_index("ix_anomaly_outbox_owner_id", table_name="anomaly_outbox")
    for table in ("recent_messages", "seq_windows", "anomaly_outbox"):
        op.drop_table(table)
