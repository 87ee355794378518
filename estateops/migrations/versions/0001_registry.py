"""Registry: estates, buildings, units, devices, last device state and dead letters.

Written to match registry/tables.py and gateway/tables.py exactly (tests compare the two).

Revision ID: 0001_registry
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_registry"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLUG = sa.String(length=64)
NAME = sa.String(length=200)


def timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def create_estates() -> None:
    op.create_table(
        "estates",
        sa.Column("id", SLUG, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("zone", NAME, nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estates")),
    )


def create_buildings() -> None:
    op.create_table(
        "buildings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("estate_id", SLUG, nullable=False),
        sa.Column("code", SLUG, nullable=False),
        sa.Column("name", NAME, nullable=False),
        *timestamps(),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_buildings_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
        sa.UniqueConstraint("estate_id", "code", name=op.f("uq_buildings_estate_id")),
    )


def create_units() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("code", SLUG, nullable=False),
        sa.Column("name", NAME, nullable=False),
        *timestamps(),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name=op.f("fk_units_building_id_buildings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("building_id", "code", name=op.f("uq_units_building_id")),
    )


def create_devices() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("estate_id", SLUG, nullable=False),
        sa.Column("device_id", SLUG, nullable=False),
        sa.Column("device_type", SLUG, nullable=False),
        sa.Column("display_name", NAME, nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("location", NAME, nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("reporting_interval_s", sa.Float(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *timestamps(),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name=op.f("fk_devices_building_id_buildings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_devices_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_devices_unit_id_units"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("estate_id", "device_id", name=op.f("uq_devices_estate_id")),
    )
    for column in ("building_id", "device_type", "estate_id"):
        op.create_index(op.f(f"ix_devices_{column}"), "devices", [column], unique=False)


def create_device_state() -> None:
    op.create_table(
        "device_state",
        sa.Column("device_pk", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("online", sa.Boolean(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_telemetry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_telemetry", sa.JSON(), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event", sa.JSON(), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["devices.id"], name=op.f("fk_device_state_device_pk_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_pk", name=op.f("pk_device_state")),
    )


def create_dead_letters() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("estate_id", SLUG, nullable=True),
        sa.Column("device_id", SLUG, nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    for column in ("reason", "received_at"):
        op.create_index(op.f(f"ix_dead_letters_{column}"), "dead_letters", [column], unique=False)


def upgrade() -> None:
    create_estates()
    create_buildings()
    create_units()
    create_devices()
    create_device_state()
    create_dead_letters()


def downgrade() -> None:
    for table in ("dead_letters", "device_state", "devices", "units", "buildings", "estates"):
        op.drop_table(table)
