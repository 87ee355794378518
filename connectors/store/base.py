"""The one interface every telemetry store implements (InfluxDB v1, v2, embedded)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.telemetry import Point


class Aggregate(StrEnum):
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    COUNT = "count"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    measurement: str
    device_id: str
    field: str
    start: datetime
    end: datetime
    interval_s: int
    aggregate: Aggregate = Aggregate.MEAN
    estate_id: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryBucket:
    start: datetime
    value: float | None


class StoreError(Exception):
    """The store refused or could not be reached; `retryable` says whether to try again."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class TelemetryStore(Protocol):
    async def write(self, points: Sequence[Point]) -> None: ...

    async def history(self, query: HistoryQuery) -> list[HistoryBucket]: ...

    async def ping(self) -> bool: ...

    async def aclose(self) -> None: ...
