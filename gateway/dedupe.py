"""Recognise QoS 1 redeliveries by a repeated per-device `seq`."""

from __future__ import annotations

from collections import OrderedDict, deque

WINDOW = 256


class _RecentSeqs:
    __slots__ = ("members", "order")

    def __init__(self) -> None:
        self.order: deque[int] = deque(maxlen=WINDOW)
        self.members: set[int] = set()

    def add(self, seq: int) -> bool:
        if seq in self.members:
            return False
        if len(self.order) == WINDOW:
            self.members.discard(self.order[0])
        self.order.append(seq)
        self.members.add(seq)
        return True


class SeqDeduplicator:
    """Remembers the last WINDOW seqs of each device (a device that restarts at 0 is fine:
    old numbers leave the window as new ones arrive)."""

    def __init__(self, max_devices: int = 200_000) -> None:
        self._by_device: OrderedDict[tuple[str, str], _RecentSeqs] = OrderedDict()
        self._max_devices = max_devices

    def first_time(self, key: tuple[str, str], seq: int | None) -> bool:
        """True if this message should be stored; False for a redelivery."""
        if seq is None:
            return True
        recent = self._by_device.get(key)
        if recent is None:
            recent = self._by_device[key] = _RecentSeqs()
            if len(self._by_device) > self._max_devices:
                self._by_device.popitem(last=False)
        return recent.add(seq)
