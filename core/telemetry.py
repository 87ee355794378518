"""A telemetry point as every store takes it, and the values a field may hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FieldValue = bool | int | float | str


@dataclass(frozen=True, slots=True)
class Point:
    """One InfluxDB point: measurement, tags, fields and a nanosecond timestamp."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int
