"""Acknowledgements held until what they wait for is durable, released in the order given.

The writer's points, the rule stage's flushes and the dead letters each count what is
durable; an acknowledgement waits for its count to be reached. Released in the order given,
a later message's acknowledgement never overtakes an earlier one's (MQTT 3.1.1, 4.6).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

Ack = Callable[[], None]


class AcksInOrder:
    """Acknowledgements waiting for a count (flushes committed, letters saved) to reach the
    value each was given."""

    def __init__(self) -> None:
        self._waiting: deque[tuple[int, Ack]] = deque()
        self.reached = 0

    def __bool__(self) -> bool:
        """Some acknowledgement is waiting."""
        return bool(self._waiting)

    def call_when(self, ack: Ack, needs: int) -> None:
        """Call `ack` once the count reaches `needs`: now, if it has and none waits."""
        if not self._waiting and needs <= self.reached:
            ack()
        else:
            self._waiting.append((needs, ack))

    def reach(self, count: int) -> None:
        """The count is now `count` (it never goes back): release what waited for it."""
        self.reached = max(self.reached, count)
        waiting = self._waiting
        while waiting and waiting[0][0] <= self.reached:
            waiting.popleft()[1]()


async def flush_due(wanted: asyncio.Event, interval_s: float, soon_s: float) -> None:
    """Return `interval_s` from now, or `soon_s` after `wanted` is set (an acknowledgement
    waits: group the messages of the next `soon_s` into the same flush), if sooner."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(interval_s):
            await wanted.wait()
            await asyncio.sleep(soon_s)
