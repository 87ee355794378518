"""Simulated time: behaviour follows a (possibly compressed) local clock in Asia/Shanghai.

Payload timestamps stay on real time, so a sped-up demo never sends `ts` values the
gateway would reject as being in the future; only the time of day that drives behaviour
runs faster.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class SimClock:
    """Simulated seconds run `speed` times faster than the monotonic clock."""

    def __init__(
        self,
        speed: float = 1.0,
        start_at: datetime | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._monotonic = monotonic
        self._wall = wall
        self._started = monotonic()
        start = start_at or datetime.fromtimestamp(wall(), SHANGHAI)
        if start.tzinfo is None:
            raise ValueError("start_at must carry a time zone")
        self._start_local = start.astimezone(SHANGHAI)

    def monotonic(self) -> float:
        return self._monotonic()

    def elapsed_sim_s(self) -> float:
        """Simulated seconds since the clock started."""
        return (self._monotonic() - self._started) * self.speed

    def local_now(self) -> datetime:
        """Simulated local time (Asia/Shanghai) that drives device behaviour."""
        return self._start_local + timedelta(seconds=self.elapsed_sim_s())

    def wall_time(self) -> float:
        """Real epoch seconds, for payload timestamps."""
        return self._wall()

    def wall_due(self, sim_s: float) -> float:
        """The monotonic time at which `sim_s` simulated seconds will have passed."""
        return self._started + sim_s / self.speed
