"""Turning the history endpoint's parameters into a checked `HistoryQuery`."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from connectors.store.base import Aggregate, HistoryQuery
from device_profiles import DeviceProfile, FieldType
from services.api.errors import InvalidQuery

MAX_BUCKETS = 10_000
DEFAULT_SPAN = timedelta(hours=24)
DEFAULT_INTERVAL = "5m"
CHARTABLE_TYPES = frozenset({FieldType.BOOL, FieldType.INT, FieldType.FLOAT})
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")


def parse_interval(text: str) -> int:
    """Seconds in an interval given as seconds ("300") or with a unit ("5m", "1h", "1d")."""
    match = _INTERVAL.match(text)
    if match is None:
        raise InvalidQuery(
            f"interval {text!r} is not a number of seconds or a duration like 30s, 5m, 1h, 1d",
            extra={"parameter": "interval"},
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    if seconds <= 0:
        raise InvalidQuery("interval must be at least one second", extra={"parameter": "interval"})
    return seconds


def chartable_fields(profile: DeviceProfile) -> list[str]:
    """Telemetry fields with a numeric or boolean value (tags are not values)."""
    return sorted(
        name for name, spec in profile.telemetry.items()
        if spec.type in CHARTABLE_TYPES and not spec.tag
    )


def resolve_field(profile: DeviceProfile, name: str) -> str:
    """The stored field that `name` (or its synonym) means, if it can be aggregated."""
    valid = chartable_fields(profile)
    canonical = profile.canonical_field(name)
    if canonical is None or canonical not in valid:
        raise InvalidQuery(
            f"field {name!r} has no numeric history for {profile.device_type}; "
            f"valid fields: {', '.join(valid)}",
            extra={"parameter": "field", "valid_fields": valid},
        )
    return canonical


# Telemetry times are nanoseconds since 1970 in a signed 64-bit integer.
STORABLE_FROM = datetime(1970, 1, 1, tzinfo=UTC)
STORABLE_UNTIL = datetime(2262, 4, 11, tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def time_range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The asked range, defaulting to the last 24 hours; naive times are taken as UTC."""
    end = _aware(end) if end is not None else datetime.now(UTC)
    start = _aware(start) if start is not None else end - DEFAULT_SPAN
    for name, moment in (("start", start), ("end", end)):
        if not STORABLE_FROM <= moment <= STORABLE_UNTIL:
            raise InvalidQuery(
                f"{name} {moment.isoformat()} is outside what a telemetry store holds "
                f"({STORABLE_FROM.date()} to {STORABLE_UNTIL.date()})",
                extra={"parameter": name})
    if start >= end:
        raise InvalidQuery(f"start {start.isoformat()} must be before end {end.isoformat()}",
                           extra={"parameter": "start"})
    return start, end


def check_bucket_count(start: datetime, end: datetime, interval_s: int) -> int:
    buckets = math.ceil((end - start).total_seconds() / interval_s)
    if buckets > MAX_BUCKETS:
        raise InvalidQuery(
            f"{buckets} buckets asked, at most {MAX_BUCKETS}: widen the interval or shorten "
            "the range",
            extra={"parameter": "interval", "buckets": buckets, "max_buckets": MAX_BUCKETS},
        )
    return buckets


def build_history_query(
    *, profile: DeviceProfile, estate_id: str, device_id: str, field: str,
    start: datetime | None, end: datetime | None, interval: str, aggregate: Aggregate,
) -> HistoryQuery:
    canonical = resolve_field(profile, field)
    interval_s = parse_interval(interval)
    start, end = time_range(start, end)
    check_bucket_count(start, end, interval_s)
    return HistoryQuery(
        measurement=profile.measurement, device_id=device_id, field=canonical,
        start=start, end=end, interval_s=interval_s, aggregate=aggregate, estate_id=estate_id,
    )
