"""Resident notices: the progress links sent to a unit's contacts about a work order (hashed).

Written to match services/workorders/tables.py exactly (tests compare the two).

Revision ID: 0011_resident_notices
Revises: 0010_residents
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_resident_notices"
down_revision: str | Sequence[str] | None = "0010_residents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resident_notices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("work_order_id", sa.Integer(),
                  sa.ForeignKey("work_orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("alert", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_resident_notices_work_order_id", "resident_notices",
                    ["work_order_id"])


def downgrade() -> None:
    op.drop_table("resident_notices")
