"""Report periods are counted in China's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.reports.period import Period, iso_week, month_period, weeks_of


def test_a_month_starts_and_ends_at_local_midnight() -> None:
    november = month_period("2026-11")
    assert november.start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert november.end == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert month_period("2026-12").end == datetime(2026, 12, 31, 16, tzinfo=UTC)


def test_weeks_are_local_iso_weeks() -> None:
    # Sunday 23:30 in UTC is already Monday in Shanghai: the next week.
    assert iso_week(datetime(2026, 11, 8, 23, 30, tzinfo=UTC)) == "2026-W46"
    assert weeks_of(month_period("2026-11"))[0] == "2026-W44"
    assert weeks_of(month_period("2026-11"))[-1] == "2026-W49"


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "0000-01"])
def test_a_month_that_does_not_exist_is_an_error(month: str) -> None:
    with pytest.raises(ValueError, match=r"month|year"):
        month_period(month)


def test_a_period_ending_before_it_starts_is_an_error() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Period(datetime(2026, 11, 2).date(), datetime(2026, 11, 1).date())
