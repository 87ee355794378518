"""Rule engine: per-estate rule overrides and saved rule state.

Written to match gateway/rules/tables.py exactly (tests compare the two).

Revision ID: 0002_rules
Revises: 0001_registry
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_rules"
down_revision: str | None = "0001_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLUG = sa.String(length=64)


def create_rule_overrides() -> None:
    op.create_table(
        "rule_overrides",
        sa.Column("estate_id", SLUG, nullable=False),
        sa.Column("device_type", SLUG, nullable=False),
        sa.Column("rule", SLUG, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_rule_overrides_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("estate_id", "device_type", "rule",
                                name=op.f("pk_rule_overrides")),
    )


def create_rule_state() -> None:
    op.create_table(
        "rule_state",
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("rule", SLUG, nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["devices.id"], name=op.f("fk_rule_state_device_pk_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_pk", "rule", name=op.f("pk_rule_state")),
    )


def upgrade() -> None:
    create_rule_overrides()
    create_rule_state()


def downgrade() -> None:
    for table in ("rule_state", "rule_overrides"):
        op.drop_table(table)
