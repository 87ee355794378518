"""Which readings arrive late: long after the device's usual delay, e.g. replayed from a buffer.

A device's clock may run minutes slow; that alone makes no reading late. What counts is the
delay `receipt - ts` compared with the device's usual one, the smallest of its last
OFFSET_WINDOW readings: a reading delayed `lateness` more than that is late. The first
reading a gateway hears from a device sets its usual delay.
"""

from __future__ import annotations

from array import array

OFFSET_WINDOW = 8
_INT64 = (-(1 << 63), (1 << 63) - 1)


class LatenessJudge:
    """Per device, the delays of its last few readings (bounded: the oldest devices go).

    Each device's delays are an array of int64, ~200 bytes with its dict entry; a deque of
    int objects was ~1 070 (50 MB of a gateway's memory at 50 000 devices)."""

    def __init__(self, max_devices: int = 500_000) -> None:
        self._delays: dict[int, array[int]] = {}
        self._max_devices = max_devices

    def late(self, device_pk: int, *, time_ns: int, received_ns: int, lateness_ns: int) -> bool:
        delay = received_ns - time_ns
        recent = self._delays.get(device_pk)
        if recent is None:
            recent = self._delays[device_pk] = array("q")
            if len(self._delays) > self._max_devices:  # the first inserted goes
                del self._delays[next(iter(self._delays))]
        usual = min(recent, default=delay)
        # Late readings join the window too, so a clock set back for good is learnt within
        # OFFSET_WINDOW readings instead of silencing the device's rules.
        if len(recent) == OFFSET_WINDOW:
            del recent[0]
        recent.append(min(max(delay, _INT64[0]), _INT64[1]))
        return delay - usual > lateness_ns

    def __len__(self) -> int:
        return len(self._delays)
