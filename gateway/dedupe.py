"""Recognise QoS 1 redeliveries: by a repeated per-device `seq`, or for messages without
one by topic, ts and payload within a window."""

from __future__ import annotations

import hashlib
from collections import OrderedDict, deque

from gateway.model import Reading

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


UNSEQUENCED_WINDOW_S = 900.0
UNSEQUENCED_MAX = 200_000


class RecentMessages:
    """Messages without `seq` recognised by topic, ts and a hash of the payload, for
    `window_s` of receipt time and at most `max_entries` (the oldest go first).

    A message without `ts` is stamped with its receipt time, so it is never taken for a
    redelivery: two identical payloads without ts may well be two readings."""

    def __init__(self, window_s: float = UNSEQUENCED_WINDOW_S,
                 max_entries: int = UNSEQUENCED_MAX) -> None:
        self._seen: OrderedDict[bytes, int] = OrderedDict()
        self._window_ns = round(window_s * 1e9)
        self._max_entries = max_entries

    def first_time(self, topic: str, time_ns: int, payload: bytes, received_ns: int) -> bool:
        self._forget_before(received_ns - self._window_ns)
        digest = hashlib.blake2b(payload, digest_size=16, person=b"estateops-dedup")
        digest.update(topic.encode())
        digest.update(time_ns.to_bytes(8, "big", signed=True))
        key = digest.digest()
        if key in self._seen:
            return False
        self._seen[key] = received_ns
        if len(self._seen) > self._max_entries:
            self._seen.popitem(last=False)
        return True

    def _forget_before(self, oldest_ns: int) -> None:
        seen = self._seen
        while seen and next(iter(seen.values())) < oldest_ns:
            seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seen)


class Deduplicator:
    """Redeliveries: by `seq` when the message has one, else by topic, ts and payload."""

    def __init__(self, seqs: SeqDeduplicator | None = None,
                 unsequenced: RecentMessages | None = None) -> None:
        self.seqs = seqs or SeqDeduplicator()
        self.unsequenced = unsequenced or RecentMessages()

    def first_time(self, topic: str, reading: Reading, payload: bytes) -> bool:
        """True if this message should be stored; False for a redelivery."""
        if reading.seq is not None:
            key = (reading.topic.estate_id, reading.topic.device_id)
            return self.seqs.first_time(key, reading.seq)
        return self.unsequenced.first_time(topic, reading.time_ns, payload, reading.received_ns)
