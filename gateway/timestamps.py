"""The `ts` of a payload: RFC 3339 with an offset, or integer epoch milliseconds, to ns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.validation import Rejected, RejectReason, preview

NS_PER_MS = 1_000_000
NS_PER_US = 1_000
NS_PER_S = 1_000_000_000
NS_PER_HOUR = 3600 * NS_PER_S
MAX_AHEAD_NS = 24 * NS_PER_HOUR
MAX_AGE_NS = 7 * 24 * NS_PER_HOUR
# InfluxDB's time range is int64 nanoseconds (minus two reserved values at the low end).
MIN_TS_NS = -(2**63) + 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9})\d*)?([Zz]|[+-]\d{2}:\d{2})"
)


@dataclass(frozen=True, slots=True)
class TsWindow:
    """How far from its receipt a `ts` may be. The past bound keeps a device (or a replay)
    from writing into old InfluxDB shards: every week of scattered history is a new shard."""

    max_age_ns: int = MAX_AGE_NS
    max_ahead_ns: int = MAX_AHEAD_NS

    @classmethod
    def of_seconds(cls, *, max_age_s: float, max_ahead_s: float) -> TsWindow:
        return cls(round(max_age_s * NS_PER_S), round(max_ahead_s * NS_PER_S))


DEFAULT_WINDOW = TsWindow()


def _bad_ts(value: object, why: str) -> Rejected:
    return Rejected(RejectReason.bad_ts, f"ts: {why}, got {preview(value)}")


def _rfc3339_ns(text: str) -> int:
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise _bad_ts(text, "expected RFC 3339 with an offset, e.g. 2026-11-22T08:00:00+08:00")
    date, time, fraction, offset = match.groups()
    if offset in ("Z", "z"):
        offset = "+00:00"
    try:
        moment = datetime.fromisoformat(f"{date}T{time}{offset}")
    except ValueError:
        raise _bad_ts(text, "not a valid date, time or offset") from None
    whole_us = (moment - EPOCH) // _ONE_MICROSECOND
    fraction_ns = int(fraction.ljust(9, "0")) if fraction else 0
    return whole_us * NS_PER_US + fraction_ns


def _epoch_ms_ns(value: int | float) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            raise _bad_ts(value, "epoch milliseconds must be a whole number")
        value = int(value)
    return value * NS_PER_MS


def parse_ts(value: object, received_ns: int, window: TsWindow = DEFAULT_WINDOW) -> int:
    """The payload's time in epoch nanoseconds; `None` (absent or null) means the receipt time.

    Raises Rejected(bad_ts) for anything unparseable, Rejected(ts_in_future) for a time more
    than `window.max_ahead_ns` after `received_ns` and Rejected(ts_too_old) for one more than
    `window.max_age_ns` before it.
    """
    if value is None:
        return received_ns
    if isinstance(value, str):
        ts_ns = _rfc3339_ns(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ts_ns = _epoch_ms_ns(value)
    else:
        raise _bad_ts(value, "expected an RFC 3339 string or integer epoch milliseconds")
    if ts_ns < MIN_TS_NS:
        raise _bad_ts(value, "before the earliest storable time (1677-09-21)")
    if ts_ns - received_ns > window.max_ahead_ns:
        raise Rejected(RejectReason.ts_in_future,
                       f"ts: {preview(value)} is {_hours(ts_ns - received_ns)} after receipt; "
                       f"the limit is {_hours(window.max_ahead_ns)}")
    if received_ns - ts_ns > window.max_age_ns:
        raise Rejected(RejectReason.ts_too_old,
                       f"ts: {preview(value)} is {_hours(received_ns - ts_ns)} before receipt; "
                       f"the limit is {_hours(window.max_age_ns)}")
    return ts_ns


def _hours(ns: int) -> str:
    return f"{ns / NS_PER_HOUR:.1f} h"
