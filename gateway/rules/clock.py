"""Where the engine's deadlines get the time, so tests can run a day of deadlines in seconds."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int:
        """Wall-clock time, nanoseconds since the Unix epoch (the scale of readings' time)."""
        ...


class SystemClock:
    def now_ns(self) -> int:
        return time.time_ns()
