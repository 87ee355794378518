"""The words the gateway and the services share: what a job is (category, priority, team)
and the anomaly the gateway's rules hand to the work orders.

The gateway raises anomalies; the services turn them into work orders and alerts; both
speak exactly these words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Team(StrEnum):
    REPAIR = "repair"  # 维修
    SAFETY = "safety"  # 平安
    TELECOM = "telecom"  # 通信
    CLEANING = "cleaning"  # 保洁


class Category(StrEnum):
    """What kind of job it is, which sets its 5341 deadlines."""

    SIMPLE = "simple"  # resolve within 30 min
    COMPLEX = "complex"  # resolve within 4 h
    EXTERNAL = "external"  # the property cannot fix it alone: a written plan within 1 day


class Action(StrEnum):
    """What people do to a work order; each moves it along the state machine."""

    ACKNOWLEDGE = "acknowledge"
    START = "start"
    RESOLVE = "resolve"
    CLOSE = "close"
    CANCEL = "cancel"
    REOPEN = "reopen"


class AnomalyKind(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"
    # A reading still meets the condition of an active rule. It changes nothing while the
    # rule's work order is open; after that order was closed it opens a new, linked one.
    ONGOING = "ongoing"


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A rule of a device profile fired (or its condition cleared) for one device."""

    kind: AnomalyKind
    estate_id: str
    device_pk: int
    device_id: str
    device_type: str
    rule: str
    at: datetime
    priority: Priority
    team: Team
    category: Category
    title_en: str
    title_zh: str
    readings: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    # The rule says so (its profile's `notify_residents`): a new work order it raises for a
    # device in a unit also tells that unit's resident contacts.
    notify_residents: bool = False


class AnomalySink(Protocol):
    """Where the gateway's rule engine sends anomalies (the work-order intake)."""

    async def __call__(self, anomaly: Anomaly) -> None: ...
