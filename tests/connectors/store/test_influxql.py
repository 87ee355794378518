"""The InfluxQL history statement and the parsing of /query answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.store.base import Aggregate, HistoryBucket, HistoryQuery, StoreError
from connectors.store.influxql import (
    from_ns,
    history_statement,
    parse_history,
    quote_identifier,
    quote_string,
    to_ns,
)

START = datetime(2026, 11, 22, 8, 0, tzinfo=timezone(timedelta(hours=8)))
START_NS = 1_795_305_600_000_000_000


def test_statement_filters_by_device_estate_and_half_open_range() -> None:
    query = HistoryQuery(measurement="leak_sensor", device_id="l-1", field="battery",
                         start=START, end=START + timedelta(hours=1), interval_s=300,
                         aggregate=Aggregate.LAST, estate_id="longdi")
    assert history_statement(query) == (
        'SELECT last("battery") FROM "leak_sensor" WHERE "device" = \'l-1\''
        " AND \"estate\" = 'longdi'"
        f" AND time >= {START_NS} AND time < {START_NS + 3_600 * 10**9}"
        " GROUP BY time(300s) fill(none)"
    )


def test_quotes_and_backslashes_cannot_end_a_literal() -> None:
    assert quote_string("a'b\\") == "'a\\'b\\\\'"
    assert quote_identifier('we"ird\n') == '"we\\"ird\\n"'


def test_naive_datetimes_are_utc_and_buckets_come_back_aware() -> None:
    assert to_ns(datetime(2026, 11, 22, 0, 0)) == START_NS
    assert from_ns(START_NS) == datetime(2026, 11, 22, tzinfo=UTC)


def test_answer_rows_become_sorted_buckets() -> None:
    body = {"results": [{"statement_id": 0, "series": [{
        "name": "m", "columns": ["time", "mean"],
        "values": [[START_NS + 60 * 10**9, 2], [START_NS, True], [START_NS + 120 * 10**9, "x"]],
    }]}]}
    assert parse_history(body) == [
        HistoryBucket(from_ns(START_NS), 1.0),
        HistoryBucket(from_ns(START_NS + 60 * 10**9), 2.0),
        HistoryBucket(from_ns(START_NS + 120 * 10**9), None),
    ]


def test_missing_database_is_no_data_but_other_errors_are_refusals() -> None:
    missing = {"results": [{"statement_id": 0, "error": "database not found: x"}]}
    assert parse_history(missing) == []
    with pytest.raises(StoreError) as caught:
        parse_history({"results": [{"statement_id": 0, "error": "unsupported mean type"}]})
    assert caught.value.retryable is False


def test_non_positive_interval_is_rejected() -> None:
    query = HistoryQuery(measurement="m", device_id="d", field="f", start=START,
                         end=START, interval_s=0)
    with pytest.raises(ValueError, match="interval_s"):
        history_statement(query)
