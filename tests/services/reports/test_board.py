"""Judging one work order against its own deadlines (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.vocabulary import Category, Priority, Team
from services.reports.board import _judged, judge
from services.workorders.model import LedgerColour, Source, Status
from services.workorders.tables import WorkOrder

T0 = datetime(2026, 11, 2, tzinfo=UTC)
LATER = T0 + timedelta(days=30)


def external(*, resolved_after: timedelta | None) -> WorkOrder:
    return WorkOrder(
        id=1, estate_id="longdi", source=Source.RESIDENT, category=Category.EXTERNAL,
        title_en="Roof", title_zh="屋面渗水", priority=Priority.P3, team=Team.REPAIR,
        status=Status.IN_PROGRESS, ack_due_at=T0 + timedelta(minutes=5),
        resolve_due_at=T0 + timedelta(days=7), plan_due_at=T0 + timedelta(days=1),
        ledger_colour=LedgerColour.RED, created_at=T0, updated_at=T0,
        acknowledged_at=T0 + timedelta(minutes=6), recurrence_count=0,
        resolved_at=T0 + resolved_after if resolved_after is not None else None)


def test_an_external_plan_is_met_by_starting_work_within_a_day() -> None:
    verdicts = _judged(external(resolved_after=None), T0 + timedelta(hours=20), LATER).verdicts
    assert verdicts == {"ack": False, "simple": None, "complex": None, "plan": True}


def test_an_external_plan_is_late_when_work_started_after_a_day_and_nothing_resolved() -> None:
    verdicts = _judged(external(resolved_after=None), T0 + timedelta(hours=30), LATER).verdicts
    assert verdicts["plan"] is False


def test_resolving_within_a_day_meets_the_plan_without_a_start() -> None:
    order = external(resolved_after=timedelta(hours=10))
    assert _judged(order, None, LATER).verdicts["plan"] is True


def test_a_deadline_not_yet_passed_is_undecided() -> None:
    due = T0 + timedelta(minutes=5)
    assert judge(None, due, T0) is None
    assert judge(None, due, due) is False
    assert judge(due, due, LATER) is True
    assert judge(None, None, LATER) is None
