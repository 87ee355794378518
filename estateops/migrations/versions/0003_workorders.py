"""Work orders: staff, work orders, their timeline and escalations, alert routes, unit contacts
and estate deadline policies.

Written to match services/workorders/tables.py exactly (tests compare the two).

Revision ID: 0003_workorders
Revises: 0001_registry
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_workorders"
down_revision: str | None = "0001_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLUG = sa.String(length=64)
NAME = sa.String(length=200)
ENUM = sa.String(length=16)
OPEN_PREDICATE = "status NOT IN ('closed', 'cancelled')"


def when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def foreign_key(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete,
    )


def create_staff() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", SLUG, nullable=False),
        sa.Column("display_name", NAME, nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", ENUM, nullable=False),
        sa.Column("team", ENUM, nullable=True),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("apprise_url", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
    )
    op.create_table(
        "staff_estates",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("estate_id", SLUG, nullable=False),
        foreign_key("staff_estates", "estate_id", "estates", "CASCADE"),
        foreign_key("staff_estates", "staff_id", "staff", "CASCADE"),
        sa.PrimaryKeyConstraint("staff_id", "estate_id", name=op.f("pk_staff_estates")),
    )
    op.create_index(
        op.f("ix_staff_estates_estate_id"), "staff_estates", ["estate_id"], unique=False
    )


def create_work_orders() -> None:
    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("estate_id", SLUG, nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("location", NAME, nullable=True),
        sa.Column("device_pk", sa.Integer(), nullable=True),
        sa.Column("rule", SLUG, nullable=True),
        sa.Column("source", ENUM, nullable=False),
        sa.Column("category", ENUM, nullable=False),
        sa.Column("title_en", NAME, nullable=False),
        sa.Column("title_zh", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("team", ENUM, nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("recurrence_count", sa.Integer(), nullable=False),
        when("last_detected_at", nullable=True),
        when("ack_due_at"),
        when("resolve_due_at"),
        when("plan_due_at", nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("ledger_colour", sa.String(length=8), nullable=False),
        when("created_at"),
        when("updated_at"),
        when("acknowledged_at", nullable=True),
        when("resolved_at", nullable=True),
        when("closed_at", nullable=True),
        foreign_key("work_orders", "assignee_id", "staff", "SET NULL"),
        foreign_key("work_orders", "building_id", "buildings", "SET NULL"),
        foreign_key("work_orders", "device_pk", "devices", "SET NULL"),
        foreign_key("work_orders", "estate_id", "estates", "CASCADE"),
        foreign_key("work_orders", "unit_id", "units", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
    )
    for column in ("assignee_id", "created_at", "estate_id", "priority", "status"):
        op.create_index(op.f(f"ix_work_orders_{column}"), "work_orders", [column], unique=False)
    op.create_index(
        "uq_work_orders_open_device_rule", "work_orders", ["device_pk", "rule"], unique=True,
        sqlite_where=sa.text(OPEN_PREDICATE), postgresql_where=sa.text(OPEN_PREDICATE),
    )


def create_timeline() -> None:
    op.create_table(
        "work_order_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("kind", ENUM, nullable=False),
        sa.Column("actor", SLUG, nullable=False),
        sa.Column("actor_name", NAME, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        when("at"),
        foreign_key("work_order_events", "work_order_id", "work_orders", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_events")),
    )
    op.create_index(
        op.f("ix_work_order_events_work_order_id"), "work_order_events", ["work_order_id"],
        unique=False,
    )
    op.create_table(
        "work_order_escalations",
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.String(length=16), nullable=False),
        when("due_at"),
        sa.Column("level", sa.Integer(), nullable=False),
        when("at"),
        foreign_key("work_order_escalations", "work_order_id", "work_orders", "CASCADE"),
        sa.PrimaryKeyConstraint(
            "work_order_id", "deadline", "due_at", name=op.f("pk_work_order_escalations")
        ),
    )


def create_routing() -> None:
    op.create_table(
        "alert_routes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("estate_id", SLUG, nullable=False),
        sa.Column("team", ENUM, nullable=False),
        sa.Column("apprise_url", sa.Text(), nullable=False),
        foreign_key("alert_routes", "estate_id", "estates", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_routes")),
        sa.UniqueConstraint(
            "estate_id", "team", "apprise_url", name=op.f("uq_alert_routes_estate_id")
        ),
    )
    op.create_table(
        "unit_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("apprise_url", sa.Text(), nullable=True),
        foreign_key("unit_contacts", "unit_id", "units", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_contacts")),
    )
    op.create_index(op.f("ix_unit_contacts_unit_id"), "unit_contacts", ["unit_id"], unique=False)
    op.create_table(
        "estate_policies",
        sa.Column("estate_id", SLUG, nullable=False),
        sa.Column("deadlines", sa.JSON(), nullable=False),
        foreign_key("estate_policies", "estate_id", "estates", "CASCADE"),
        sa.PrimaryKeyConstraint("estate_id", name=op.f("pk_estate_policies")),
    )


def upgrade() -> None:
    create_staff()
    create_work_orders()
    create_timeline()
    create_routing()


def downgrade() -> None:
    for table in ("estate_policies", "unit_contacts", "alert_routes", "work_order_escalations",
                  "work_order_events", "work_orders", "staff_estates", "staff"):
        op.drop_table(table)
