"""Time as a dependency: the system clock in production, a manual one in tests.

Every part of EstateOps reads the time through one Clock: the rule engine's deadlines
(`now_ns`, the scale of readings' time), the work orders' deadlines and escalation
(`now`, `sleep`) and the login tokens. With ManualClock a test runs a day of deadlines in
seconds: `sleep` moves time forward instead of waiting.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

NS_PER_S = 1_000_000_000


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware wall-clock time (UTC)."""
        ...

    def now_ns(self) -> int:
        """Wall-clock time, nanoseconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def now_ns(self) -> int:
        return time.time_ns()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to (advance, set) or when slept on."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware start time")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def now_ns(self) -> int:
        return datetime_to_ns(self._now)

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs aware times")
        self._now = moment

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


def utcnow() -> datetime:
    return datetime.now(UTC)


def ns_to_datetime(time_ns: int) -> datetime:
    return datetime.fromtimestamp(time_ns / 1e9, tz=UTC)


def datetime_to_ns(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000
