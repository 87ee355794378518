"""An alert about a work order: what happened, to which work order, at which escalation level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from core.vocabulary import Category, Priority, Team
from services.workorders.model import Status
from services.workorders.tables import WorkOrder

ALERT_TOPIC_ROOT = "estateops/alerts"


class AlertKind(StrEnum):
    CREATED = "created"  # a new P1/P2 work order
    ESCALATED = "escalated"  # a deadline passed
    ASSIGNED = "assigned"  # someone was given the work
    RESOLVED = "resolved"  # done: told only to residents who were told it began


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    work_order_id: int
    estate_id: str
    priority: Priority
    team: Team
    category: Category
    status: Status
    title_en: str
    title_zh: str
    location: str | None
    building_id: int | None
    unit_id: int | None
    device_pk: int | None
    rule: str | None
    assignee_id: int | None
    level: int
    at: datetime
    deadline: str | None = None
    due_at: datetime | None = None
    notify_residents: bool = False

    @classmethod
    def of(cls, work_order: WorkOrder, kind: AlertKind, *, at: datetime,
           deadline: str | None = None, due_at: datetime | None = None) -> Alert:
        return cls(
            kind=kind, work_order_id=work_order.id, estate_id=work_order.estate_id,
            priority=work_order.priority, team=work_order.team, category=work_order.category,
            status=work_order.status, title_en=work_order.title_en,
            title_zh=work_order.title_zh, location=work_order.location,
            building_id=work_order.building_id, unit_id=work_order.unit_id,
            device_pk=work_order.device_pk, rule=work_order.rule,
            assignee_id=work_order.assignee_id, level=work_order.escalation_level, at=at,
            deadline=deadline, due_at=due_at, notify_residents=work_order.notify_residents,
        )

    @property
    def topic(self) -> str:
        return f"{ALERT_TOPIC_ROOT}/{self.estate_id}/{self.priority}/{self.work_order_id}"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value, "work_order_id": self.work_order_id,
            "estate_id": self.estate_id, "priority": self.priority.value,
            "team": self.team.value, "category": self.category.value,
            "status": self.status.value, "title_en": self.title_en, "title_zh": self.title_zh,
            "location": self.location, "building_id": self.building_id,
            "unit_id": self.unit_id, "device_pk": self.device_pk, "rule": self.rule,
            "assignee_id": self.assignee_id, "level": self.level, "at": self.at.isoformat(),
            "deadline": self.deadline,
            "due_at": self.due_at.isoformat() if self.due_at is not None else None,
        }


class AlertSink(Protocol):
    """Where alerts go (the Notifier; a recording list in a unit test)."""

    async def notify(self, alert: Alert) -> object: ...
