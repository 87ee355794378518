"""Recognise QoS 1 redeliveries: by a repeated per-device `seq`, or for messages without
one by topic, ts and payload within a window.

Both remember what changed since the last `take_changes()`, which the rule stage saves in
the same transaction as the rule state (gateway/rules/persistence.py), and both are loaded
back at start: a message redelivered after a crash is then recognised too.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable

from gateway.model import Reading

WINDOW = 256
WINDOW_MASK = (1 << WINDOW) - 1
WINDOW_BYTES = WINDOW // 8


class SeqWindow:
    """The highest seq seen and a bitmap of the WINDOW seqs up to it (bit i: `high - i`)."""

    __slots__ = ("high", "seen")

    def __init__(self, high: int, seen: int = 1) -> None:
        self.high = high
        self.seen = seen

    def add(self, seq: int) -> bool:
        """True if `seq` is new. A seq further behind than the window is a device that
        started counting again: the window restarts from it."""
        behind = self.high - seq
        if behind < 0:
            self.seen = ((self.seen << -behind) | 1) & WINDOW_MASK
            self.high = seq
            return True
        if behind >= WINDOW:
            self.high, self.seen = seq, 1
            return True
        bit = 1 << behind
        if self.seen & bit:
            return False
        self.seen |= bit
        return True

    def seen_bytes(self) -> bytes:
        return self.seen.to_bytes(WINDOW_BYTES, "big")

    @classmethod
    def of(cls, high: int, seen: bytes) -> SeqWindow:
        return cls(high, int.from_bytes(seen, "big") & WINDOW_MASK)


class SeqDeduplicator:
    """One SeqWindow per device (by its registry pk): about 200 bytes each, whatever the
    device's rate."""

    def __init__(self, max_devices: int = 200_000) -> None:
        self._by_device: dict[int, SeqWindow] = {}
        self._max_devices = max_devices
        self._changed: set[int] = set()

    def first_time(self, device_pk: int, seq: int | None) -> bool:
        """True if this message should be stored; False for a redelivery."""
        if seq is None:
            return True
        window = self._by_device.get(device_pk)
        if window is None:
            self._make_room()
            self._by_device[device_pk] = SeqWindow(seq)
            self._changed.add(device_pk)
            return True
        if window.add(seq):
            self._changed.add(device_pk)
            return True
        return False

    def _make_room(self) -> None:
        if len(self._by_device) >= self._max_devices:  # the oldest inserted goes first
            del self._by_device[next(iter(self._by_device))]

    def restore(self, windows: Iterable[tuple[int, int, bytes]]) -> None:
        """(device_pk, high, seen bitmap) as saved."""
        for device_pk, high, seen in windows:
            self._by_device[device_pk] = SeqWindow.of(high, seen)

    def take_changes(self) -> dict[int, tuple[int, bytes]]:
        """Windows changed since the last call: device_pk -> (high, seen bitmap)."""
        changed, self._changed = self._changed, set()
        return {pk: (window.high, window.seen_bytes()) for pk in changed
                if (window := self._by_device.get(pk)) is not None}

    def mark_changed(self, device_pks: Iterable[int]) -> None:
        """Their save failed: save them again next time."""
        self._changed.update(device_pks)

    def __len__(self) -> int:
        return len(self._by_device)


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
        self._added: dict[bytes, int] = {}

    def first_time(self, topic: str, time_ns: int, payload: bytes, received_ns: int) -> bool:
        self._forget_before(received_ns - self._window_ns)
        digest = hashlib.blake2b(payload, digest_size=16, person=b"estateops-dedup")
        digest.update(topic.encode())
        digest.update(time_ns.to_bytes(8, "big", signed=True))
        key = digest.digest()
        if key in self._seen:
            return False
        self._seen[key] = received_ns
        self._added[key] = received_ns
        if len(self._seen) > self._max_entries:
            self._seen.popitem(last=False)
        return True

    def _forget_before(self, oldest_ns: int) -> None:
        seen = self._seen
        while seen and next(iter(seen.values())) < oldest_ns:
            seen.popitem(last=False)

    def restore(self, entries: Iterable[tuple[bytes, int]]) -> None:
        """(digest, received_ns) as saved, oldest first."""
        for key, received_ns in entries:
            self._seen[key] = received_ns
        while len(self._seen) > self._max_entries:
            self._seen.popitem(last=False)

    def take_changes(self) -> tuple[dict[bytes, int], int]:
        """Entries added since the last call, and the receipt time before which saved ones
        may go (the oldest still remembered: the table stays as bounded as memory)."""
        added, self._added = self._added, {}
        oldest = next(iter(self._seen.values())) if self._seen else 0
        return added, oldest

    def mark_changed(self, added: dict[bytes, int]) -> None:
        self._added = {**added, **self._added}

    @property
    def window_ns(self) -> int:
        return self._window_ns

    def __len__(self) -> int:
        return len(self._seen)


class Deduplicator:
    """Redeliveries: by `seq` when the message has one, else by topic, ts and payload."""

    def __init__(self, seqs: SeqDeduplicator | None = None,
                 unsequenced: RecentMessages | None = None) -> None:
        self.seqs = seqs or SeqDeduplicator()
        self.unsequenced = unsequenced or RecentMessages()

    def first_time(self, device_pk: int, topic: str, reading: Reading, payload: bytes) -> bool:
        """True if this message should be stored; False for a redelivery."""
        if reading.seq is not None:
            return self.seqs.first_time(device_pk, reading.seq)
        return self.unsequenced.first_time(topic, reading.time_ns, payload, reading.received_ns)
