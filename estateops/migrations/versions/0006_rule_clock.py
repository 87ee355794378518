"""Rules on the right clock: devices are watched from registration (`watched_since`) unless
commissioning, and work orders carry their condition's live state and the closed work order
they follow.

Written to match registry/tables.py and services/workorders/tables.py exactly (tests compare
them). Devices registered before this revision are watched from now (the upgrade), so an
upgrade does not flood with devices that were never heard; work orders raised before it
take their condition from their last raise and clear.

Revision ID: 0006_rule_clock
Revises: 0005_notify_residents
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006_rule_clock"
down_revision: str | Sequence[str] | None = "0005_notify_residents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_PREVIOUS = "fk_work_orders_previous_id_work_orders"


def upgrade() -> None:
    op.add_column("devices", sa.Column("commissioning", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.add_column("devices", sa.Column("watched_since", sa.DateTime(timezone=True)))
    table = sa.table("devices", sa.column("watched_since", sa.DateTime(timezone=True)))
    op.execute(table.update().values(watched_since=datetime.now(UTC)))
    op.add_column("work_orders", sa.Column("condition_active", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.add_column("work_orders", sa.Column("condition_since", sa.DateTime(timezone=True)))
    op.add_column("work_orders", sa.Column("condition_cleared_at", sa.DateTime(timezone=True)))
    _add_previous_id()
    _condition_from_timeline()


def _add_previous_id() -> None:
    # SQLite cannot add a constraint in place: batch mode copies the table.
    with op.batch_alter_table("work_orders") as work_orders:
        work_orders.add_column(sa.Column("previous_id", sa.Integer()))
        work_orders.create_foreign_key(FK_PREVIOUS, "work_orders", ["previous_id"], ["id"],
                                       ondelete="SET NULL")


def _condition_from_timeline() -> None:
    """Open sensor work orders whose last raise or clear was a raise are active."""
    events = sa.table("work_order_events", sa.column("work_order_id", sa.Integer()),
                      sa.column("kind", sa.String()), sa.column("id", sa.Integer()))
    orders = sa.table("work_orders", sa.column("id", sa.Integer()),
                      sa.column("source", sa.String()), sa.column("status", sa.String()),
                      sa.column("last_detected_at", sa.DateTime(timezone=True)),
                      sa.column("condition_active", sa.Boolean()),
                      sa.column("condition_since", sa.DateTime(timezone=True)))
    last_kind = (sa.select(events.c.kind)
                 .where(events.c.work_order_id == orders.c.id,
                        events.c.kind.in_(["raised", "recurred", "cleared"]))
                 .order_by(events.c.id.desc()).limit(1).scalar_subquery())
    op.execute(orders.update()
               .where(orders.c.source == "sensor",
                      orders.c.status.not_in(["closed", "cancelled"]),
                      last_kind.in_(["raised", "recurred"]))
               .values(condition_active=True, condition_since=orders.c.last_detected_at))


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as work_orders:
        work_orders.drop_constraint(FK_PREVIOUS, type_="foreignkey")
        work_orders.drop_column("previous_id")
    for column in ("condition_cleared_at", "condition_since", "condition_active"):
        op.drop_column("work_orders", column)
    op.drop_column("devices", "watched_since")
    op.drop_column("devices", "commissioning")
