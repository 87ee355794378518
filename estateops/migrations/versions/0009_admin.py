"""Duty rota: who is on duty for which team of which estate, and when (`duty_shifts`).

Written to match services/workorders/tables.py exactly (tests compare the two).

Revision ID: 0009_admin
Revises: 0005_notify_residents
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_admin"
down_revision: str | Sequence[str] | None = "0008_device_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=16), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE",
                                name=op.f("fk_duty_shifts_staff_id_staff")),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], ondelete="CASCADE",
                                name=op.f("fk_duty_shifts_estate_id_estates")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
    )
    op.create_index(op.f("ix_duty_shifts_staff_id"), "duty_shifts", ["staff_id"])
    op.create_index("ix_duty_shifts_estate_team_ends", "duty_shifts",
                    ["estate_id", "team", "ends_at"])


def downgrade() -> None:
    op.drop_index("ix_duty_shifts_estate_team_ends", table_name="duty_shifts")
    op.drop_index(op.f("ix_duty_shifts_staff_id"), table_name="duty_shifts")
    op.drop_table("duty_shifts")
