"""Join the two branches (rules, work orders) that both grew from the registry into one head.

Revision ID: 0004_one_head
Revises: 0002_rules, 0003_workorders
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0004_one_head"
down_revision: str | Sequence[str] | None = ("0002_rules", "0003_workorders")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
