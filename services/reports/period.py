"""The period a report covers: a calendar month or a range of days, in the estates' time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Reports count days and ISO weeks in China's time zone, whatever the server's.
REPORT_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Period:
    """From the first day's midnight to the day after the last day's midnight (local)."""

    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError(f"the period ends ({self.last_day}) before it starts "
                             f"({self.first_day})")
        if (self.last_day - self.first_day).days > 400:
            raise ValueError("a period is at most 400 days")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), REPORT_ZONE)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time(), REPORT_ZONE)

    @property
    def label(self) -> str:
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"


def month_period(month: str) -> Period:
    """"2026-11" -> the 1st to the 30th of November 2026; ValueError if not a month."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return Period(first, following - timedelta(days=1))


def current_month(now: datetime) -> str:
    return now.astimezone(REPORT_ZONE).strftime("%Y-%m")


def iso_week(moment: datetime) -> str:
    """The local ISO week of a moment: "2026-W45"."""
    year, week, _ = moment.astimezone(REPORT_ZONE).isocalendar()
    return f"{year}-W{week:02d}"


def weeks_of(period: Period) -> list[str]:
    """Every ISO week the period touches, in order."""
    weeks: list[str] = []
    day = period.first_day
    while day <= period.last_day:
        week = iso_week(datetime.combine(day, time(12), REPORT_ZONE))
        if not weeks or weeks[-1] != week:
            weeks.append(week)
        day += timedelta(days=1)
    return weeks
