"""The "5341" deadlines of a work order, an estate's own numbers, and the ledger colour.

Acknowledge within 5 minutes; resolve a simple job within 30 minutes and a complex one within
4 hours; a job the property cannot fix alone (external) gets a written plan within 1 day and
is resolved within 7 days (the red ledger's reach). Priority only tightens: a P1 is resolved
within the complex deadline at most, whatever its category, because a P1 (a leak, an
overheating charger) must be made safe the same day even when the final fix needs outsiders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Category, Priority
from services.workorders.errors import InvalidPolicy
from services.workorders.model import LedgerColour, Status
from services.workorders.tables import EstatePolicy, WorkOrder

log = logging.getLogger(__name__)


class Deadline(StrEnum):
    ACK = "ack"
    RESOLVE = "resolve"
    PLAN = "plan"


# The statuses in which a deadline is still unmet: once a work order leaves them, the
# deadline is met (acknowledged, started with a plan, resolved) and can no longer pass.
UNMET_WHILE: dict[Deadline, frozenset[Status]] = {
    Deadline.ACK: frozenset({Status.OPEN}),
    Deadline.PLAN: frozenset({Status.OPEN, Status.ACKNOWLEDGED}),
    Deadline.RESOLVE: frozenset({Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS}),
}

# The column holding each deadline's due time.
DUE_COLUMNS: dict[Deadline, Any] = {
    Deadline.ACK: WorkOrder.ack_due_at,
    Deadline.RESOLVE: WorkOrder.resolve_due_at,
    Deadline.PLAN: WorkOrder.plan_due_at,
}

LEDGER_COLOURS = {
    Category.SIMPLE: LedgerColour.GREEN,  # done on the spot
    Category.COMPLEX: LedgerColour.YELLOW,  # needs up to 2 days
    Category.EXTERNAL: LedgerColour.RED,  # needs several parties, up to 7 days
}


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """Seconds allowed for each step; an estate overrides any of them in estate_policies."""

    ack_s: int = 5 * 60
    simple_s: int = 30 * 60
    complex_s: int = 4 * 3600
    plan_s: int = 24 * 3600
    external_s: int = 7 * 24 * 3600

    @classmethod
    def with_overrides(cls, overrides: dict[str, Any], *, estate_id: str = "") -> DeadlinePolicy:
        """The defaults changed by `overrides`; an unknown key or a bad number is an error."""
        known = {field.name for field in fields(cls)}
        for key, value in overrides.items():
            if key not in known:
                raise InvalidPolicy(estate_id, key, f"unknown deadline; known: {sorted(known)}")
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidPolicy(estate_id, key, f"must be a positive whole number of "
                                                    f"seconds, not {value!r}")
        return replace(cls(), **overrides)


@dataclass(frozen=True, slots=True)
class Deadlines:
    ack_due_at: datetime
    resolve_due_at: datetime
    plan_due_at: datetime | None


def resolve_seconds(category: Category, priority: Priority, policy: DeadlinePolicy) -> int:
    allowed = {
        Category.SIMPLE: policy.simple_s,
        Category.COMPLEX: policy.complex_s,
        Category.EXTERNAL: policy.external_s,
    }[category]
    if priority is Priority.P1:
        return min(allowed, policy.complex_s)
    return allowed


def deadlines_for(category: Category, priority: Priority, *, start: datetime,
                  policy: DeadlinePolicy) -> Deadlines:
    """The deadlines of a work order raised (or reopened) at `start`."""
    plan_due = start + timedelta(seconds=policy.plan_s) if category is Category.EXTERNAL else None
    return Deadlines(
        ack_due_at=start + timedelta(seconds=policy.ack_s),
        resolve_due_at=start + timedelta(seconds=resolve_seconds(category, priority, policy)),
        plan_due_at=plan_due,
    )


def overdue_clause(now: datetime) -> Any:
    """SQL: some deadline of the work order has passed by `now` and is still unmet."""
    return or_(*(
        and_(WorkOrder.status.in_(list(UNMET_WHILE[deadline])), column.is_not(None),
             column <= now)
        for deadline, column in DUE_COLUMNS.items()
    ))


def ledger_colour(category: Category) -> LedgerColour:
    return LEDGER_COLOURS[category]


async def policy_for(session: AsyncSession, estate_id: str) -> DeadlinePolicy:
    """The estate's deadline policy: the 5341 defaults with its own overrides applied.

    A stored policy that is no longer valid falls back to the defaults (logged): a leak must
    still become a work order while someone fixes the estate's settings.
    """
    overrides = await session.scalar(
        select(EstatePolicy.deadlines).where(EstatePolicy.estate_id == estate_id)
    )
    try:
        return DeadlinePolicy.with_overrides(overrides or {}, estate_id=estate_id)
    except InvalidPolicy as exc:
        log.error("%s; using the 5341 defaults", exc)
        return DeadlinePolicy()


async def set_estate_policy(session: AsyncSession, estate_id: str,
                            deadlines: dict[str, Any]) -> DeadlinePolicy:
    """Store an estate's deadline overrides (validated first; {} restores the defaults)."""
    policy = DeadlinePolicy.with_overrides(deadlines, estate_id=estate_id)
    row = await session.get(EstatePolicy, estate_id)
    if row is None:
        session.add(EstatePolicy(estate_id=estate_id, deadlines=dict(deadlines)))
    else:
        row.deadlines = dict(deadlines)
    await session.flush()
    return policy


async def stored_policy(session: AsyncSession, estate_id: str) -> dict[str, Any]:
    """The estate's own numbers as stored ({} when it keeps the 5341 defaults)."""
    overrides = await session.scalar(
        select(EstatePolicy.deadlines).where(EstatePolicy.estate_id == estate_id))
    return dict(overrides or {})
