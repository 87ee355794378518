"""The `ts` of a payload: RFC 3339 with an offset, or integer epoch milliseconds, to ns."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from gateway.validation import Rejected, RejectReason, preview

NS_PER_MS = 1_000_000
NS_PER_US = 1_000
MAX_AHEAD_NS = 24 * 3600 * 1_000_000_000
# InfluxDB's time range is int64 nanoseconds (minus two reserved values at the low end).
MIN_TS_NS = -(2**63) + 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9})\d*)?([Zz]|[+-]\d{2}:\d{2})"
)


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


def parse_ts(value: object, received_ns: int) -> int:
    """The payload's time in epoch nanoseconds; `None` (absent or null) means the receipt time.

    Raises Rejected(bad_ts) for anything unparseable and Rejected(ts_in_future) for a time
    more than 24 h after `received_ns`.
    """
    if value is None:
        return received_ns
    if isinstance(value, str):
        ts_ns = _rfc3339_ns(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ts_ns = _epoch_ms_ns(value)
    else:
        raise _bad_ts(value, "expected an RFC 3339 string or integer epoch milliseconds")
    if ts_ns - received_ns > MAX_AHEAD_NS:
        hours = (ts_ns - received_ns) / 3_600_000_000_000
        raise Rejected(RejectReason.ts_in_future,
                       f"ts: {preview(value)} is {hours:.1f} h after receipt; the limit is 24 h")
    if ts_ns < MIN_TS_NS:
        raise _bad_ts(value, "before the earliest storable time (1677-09-21)")
    return ts_ns
