"""Writing a work order's timeline: every change is one event with who, when and why."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.workorders.schemas import Actor, EventKind
from services.workorders.tables import WorkOrderEvent


def json_safe(value: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON column's value: datetimes and other odd types become strings."""
    safe: dict[str, Any] = json.loads(json.dumps(value, default=str, ensure_ascii=False))
    return safe


async def record(session: AsyncSession, work_order_id: int, kind: EventKind, *, actor: Actor,
                 at: datetime, note: str | None = None,
                 data: Mapping[str, Any] | None = None) -> WorkOrderEvent:
    event = WorkOrderEvent(
        work_order_id=work_order_id, kind=kind, actor=actor.key, actor_name=actor.name,
        note=note, data=json_safe(data) if data is not None else None, at=at,
    )
    session.add(event)
    await session.flush()
    return event
