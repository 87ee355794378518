"""`staff.token_generation`: bumped by a password change, so a reset ends old tokens.

Revision ID: 0013_staff_token_generation
Revises: 0012_zones
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_staff_token_generation"
down_revision: str | Sequence[str] | None = "0012_zones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("token_generation", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("token_generation")
