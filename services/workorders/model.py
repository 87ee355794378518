"""The work order's own vocabulary: its status, where it came from, its ledger colour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Source(StrEnum):
    SENSOR = "sensor"
    RESIDENT = "resident"
    STAFF = "staff"


class LedgerColour(StrEnum):
    GREEN = "green"  # done on the spot
    YELLOW = "yellow"  # needs up to 2 days
    RED = "red"  # needs several parties, up to 7 days


@dataclass(frozen=True, slots=True)
class ConditionState:
    """The live state of a sensor work order's condition: active since when, or cleared at
    when (a work order staff reported has no condition: never active)."""

    active: bool
    since: datetime | None
    cleared_at: datetime | None
