"""Residents: issued QR links, resident reports with their progress tokens, work-order photos.

Written to match services/residents/tables.py exactly (tests compare the two).

Revision ID: 0010_residents
Revises: 0005_notify_residents
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_residents"
down_revision: str | Sequence[str] | None = "0009_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _qr_links() -> None:
    op.create_table(
        "qr_links",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("estate_id", sa.String(64),
                  sa.ForeignKey("estates.id", ondelete="CASCADE"), nullable=False),
        sa.Column("building_id", sa.Integer(),
                  sa.ForeignKey("buildings.id", ondelete="CASCADE"), nullable=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("device_pk", sa.Integer(), sa.ForeignKey("devices.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_qr_links_estate_id", "qr_links", ["estate_id"])


def _resident_reports() -> None:
    op.create_table(
        "resident_reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("work_order_id", sa.Integer(),
                  sa.ForeignKey("work_orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("qr_link_id", sa.Integer(), sa.ForeignKey("qr_links.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("joined", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_requested_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_resident_reports_work_order_id", "resident_reports", ["work_order_id"])
    op.create_index("ix_resident_reports_review_requested_at", "resident_reports",
                    ["review_requested_at"])


def _photos() -> None:
    op.create_table(
        "work_order_photos",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("work_order_id", sa.Integer(),
                  sa.ForeignKey("work_orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("resident_report_id", sa.Integer(),
                  sa.ForeignKey("resident_reports.id", ondelete="SET NULL"), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_work_order_photos_work_order_id", "work_order_photos",
                    ["work_order_id"])


def upgrade() -> None:
    _qr_links()
    _resident_reports()
    _photos()


def downgrade() -> None:
    op.drop_table("work_order_photos")
    op.drop_table("resident_reports")
    op.drop_table("qr_links")
