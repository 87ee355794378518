"""Zones above estates (大区划片): `zones`, `estates.zone_id` and `staff_zones`.

Written to match registry/tables.py and services/auth/tables.py exactly (tests compare them).

Revision ID: 0012_zones
Revises: 0011_resident_notices
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_zones"
down_revision: str | Sequence[str] | None = "0011_resident_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_ZONE = "fk_estates_zone_id_zones"


def _zones() -> None:
    op.create_table(
        "zones",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def _staff_zones() -> None:
    op.create_table(
        "staff_zones",
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("zone_id", sa.String(64), sa.ForeignKey("zones.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_index("ix_staff_zones_zone_id", "staff_zones", ["zone_id"])


def upgrade() -> None:
    _zones()
    # SQLite cannot add a constraint in place: batch mode copies the table.
    with op.batch_alter_table("estates") as estates:
        estates.add_column(sa.Column("zone_id", sa.String(64), nullable=True))
        estates.create_foreign_key(FK_ZONE, "zones", ["zone_id"], ["id"], ondelete="SET NULL")
        estates.create_index("ix_estates_zone_id", ["zone_id"])
    _staff_zones()


def downgrade() -> None:
    op.drop_table("staff_zones")
    with op.batch_alter_table("estates") as estates:
        estates.drop_index("ix_estates_zone_id")
        estates.drop_constraint(FK_ZONE, type_="foreignkey")
        estates.drop_column("zone_id")
    op.drop_table("zones")
