"""What flows through the gateway: a validated device message (a Reading)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.telemetry import FieldValue
from core.topic import Topic


@dataclass(frozen=True, slots=True)
class Reading:
    """A validated device message, ready to store and to update last state."""

    topic: Topic
    time_ns: int
    received_ns: int
    seq: int | None
    values: Mapping[str, FieldValue | None]
    event: str | None = None
    extras: Mapping[str, FieldValue] = field(default_factory=dict)
