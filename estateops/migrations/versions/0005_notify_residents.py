"""Work orders remember whether their rule tells the unit's residents (`notify_residents`).

Written to match services/workorders/tables.py exactly (tests compare the two). Work orders
raised before this revision get what the code then decided: a leak sensor's leak rule.

Revision ID: 0005_notify_residents
Revises: 0004_one_head
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_notify_residents"
down_revision: str | Sequence[str] | None = "0004_one_head"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("work_orders", sa.Column("notify_residents", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    work_orders = sa.table("work_orders", sa.column("notify_residents", sa.Boolean()),
                           sa.column("rule", sa.String()), sa.column("device_pk", sa.Integer()))
    devices = sa.table("devices", sa.column("id", sa.Integer()),
                       sa.column("device_type", sa.String()))
    leak_sensors = sa.select(devices.c.id).where(devices.c.device_type == "leak_sensor")
    op.execute(work_orders.update()
               .where(work_orders.c.rule.like("%leak%"), work_orders.c.device_pk.in_(leak_sensors))
               .values(notify_residents=True))


def downgrade() -> None:
    op.drop_column("work_orders", "notify_residents")
