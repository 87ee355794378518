"""parse_ts: RFC 3339 with offset or epoch milliseconds, to nanoseconds."""

from __future__ import annotations

import pytest

from gateway.timestamps import MAX_AGE_NS, MAX_AHEAD_NS, TsWindow, parse_ts
from gateway.validation import Rejected, RejectReason
from tests.utils.payloads import CONTRACT_TS_MS, CONTRACT_TS_NS, CONTRACT_TS_RFC3339

RECEIVED_NS = CONTRACT_TS_NS + 5_000_000_000
CENTURIES = TsWindow(max_age_ns=2**63 - 1)


def test_epoch_ms_and_rfc3339_with_offset_are_the_same_instant() -> None:
    assert parse_ts(CONTRACT_TS_MS, RECEIVED_NS) == CONTRACT_TS_NS
    assert parse_ts(CONTRACT_TS_RFC3339, RECEIVED_NS) == CONTRACT_TS_NS


@pytest.mark.parametrize("text", [
    "2026-11-22T00:00:00Z",
    "2026-11-22T00:00:00z",
    "2026-11-22 00:00:00+00:00",
    "2026-11-21T19:00:00-05:00",
    "2026-11-22t08:00:00+08:00",
])
def test_rfc3339_variants_of_the_contract_instant(text: str) -> None:
    assert parse_ts(text, RECEIVED_NS) == CONTRACT_TS_NS


def test_fraction_keeps_nanoseconds_and_truncates_beyond() -> None:
    nine_digits = "2026-11-22T08:00:00.123456789+08:00"
    assert parse_ts(nine_digits, RECEIVED_NS) == CONTRACT_TS_NS + 123456789
    assert parse_ts("2026-11-22T08:00:00.5+08:00", RECEIVED_NS) == CONTRACT_TS_NS + 500_000_000
    assert parse_ts("2026-11-22T08:00:00.1234567891+08:00", RECEIVED_NS) == (
        CONTRACT_TS_NS + 123456789)


def test_absent_ts_is_the_time_of_receipt() -> None:
    assert parse_ts(None, RECEIVED_NS) == RECEIVED_NS


def test_integral_float_is_accepted_as_epoch_ms() -> None:
    assert parse_ts(float(CONTRACT_TS_MS), RECEIVED_NS) == CONTRACT_TS_NS


@pytest.mark.parametrize("value", [
    "2026-11-22T08:00:00",            # naive: no offset
    "2026-11-22",
    "yesterday",
    "",
    "2026-13-22T08:00:00+08:00",      # month 13
    "2026-11-22T08:00:00+25:00",
    "2026-11-22T08:00:00+08:00 trailing",
    True,
    1795305600000.5,
    float("inf"),
    [CONTRACT_TS_MS],
    {"ms": CONTRACT_TS_MS},
    -(2**62),                          # before InfluxDB's earliest time
])
def test_unparseable_ts_is_bad_ts(value: object) -> None:
    with pytest.raises(Rejected) as caught:
        parse_ts(value, RECEIVED_NS, CENTURIES)
    assert caught.value.reason is RejectReason.bad_ts
    assert caught.value.detail.startswith("ts: ")


def test_exactly_24h_ahead_is_accepted() -> None:
    assert parse_ts(CONTRACT_TS_MS, CONTRACT_TS_NS - MAX_AHEAD_NS) == CONTRACT_TS_NS


@pytest.mark.parametrize("value", [CONTRACT_TS_MS + 1, "2026-11-22T08:00:00.001+08:00"])
def test_more_than_24h_ahead_is_ts_in_future(value: object) -> None:
    with pytest.raises(Rejected) as caught:
        parse_ts(value, CONTRACT_TS_NS - MAX_AHEAD_NS)
    assert caught.value.reason is RejectReason.ts_in_future
    assert "ts" in caught.value.detail
    assert "24.0 h" in caught.value.detail


def test_exactly_7_days_old_is_accepted_and_a_millisecond_more_is_ts_too_old() -> None:
    received_ns = CONTRACT_TS_NS + MAX_AGE_NS
    assert parse_ts(CONTRACT_TS_MS, received_ns) == CONTRACT_TS_NS
    for value in (CONTRACT_TS_MS - 1, "2026-11-22T07:59:59.999+08:00", 0):
        with pytest.raises(Rejected) as caught:
            parse_ts(value, received_ns)
        assert caught.value.reason is RejectReason.ts_too_old
        assert "168.0 h" in caught.value.detail


def test_the_window_is_configurable_both_ways() -> None:
    assert parse_ts(0, RECEIVED_NS, CENTURIES) == 0
    assert parse_ts("1999-12-31T23:59:59+08:00", RECEIVED_NS, CENTURIES) == 946655999 * 10**9
    hour = TsWindow.of_seconds(max_age_s=3600, max_ahead_s=60)
    for value, reason in ((CONTRACT_TS_MS - 3_601_000, RejectReason.ts_too_old),
                          (CONTRACT_TS_MS + 66_000, RejectReason.ts_in_future)):
        with pytest.raises(Rejected) as caught:
            parse_ts(value, RECEIVED_NS, hour)
        assert caught.value.reason is reason
    assert parse_ts(CONTRACT_TS_MS - 3_594_000, RECEIVED_NS, hour) < RECEIVED_NS
