"""Device broker credentials: one Mosquitto password hash per registered device.

Written to match registry/credentials.py exactly (tests compare the two).

Revision ID: 0008_device_credentials
Revises: 0005_notify_residents
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_device_credentials"
down_revision: str | Sequence[str] | None = "0007_bridges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_credentials",
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_pk"], ["devices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("device_pk"),
    )


def downgrade() -> None:
    op.drop_table("device_credentials")
