"""A heap of (device, rule) deadlines, so a tick costs O(due timers), not O(devices)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class DeadlineHeap(Generic[K]):
    """At most one live deadline per key: the earliest asked for.

    Asking for a later deadline while an earlier one is pending does nothing; when the early
    one comes due, the caller re-reads the state and asks again if it is not due yet. Heap
    entries replaced by an earlier deadline are skipped when they surface.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, K]] = []
        self._pending: dict[K, int] = {}
        self._order = itertools.count()

    def schedule(self, key: K, due_ns: int) -> None:
        current = self._pending.get(key)
        if current is not None and current <= due_ns:
            return
        self._pending[key] = due_ns
        heapq.heappush(self._heap, (due_ns, next(self._order), key))

    def pop_due(self, now_ns: int, limit: int | None = None) -> list[K]:
        """Keys due by `now_ns`, earliest first; at most `limit` of them (the rest stay)."""
        due: list[K] = []
        heap = self._heap
        while heap and heap[0][0] <= now_ns and (limit is None or len(due) < limit):
            when, _, key = heapq.heappop(heap)
            if self._pending.get(key) == when:
                del self._pending[key]
                due.append(key)
        return due

    def next_due_ns(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._pending)
