"""The store that needs no server: one SQLite file, used by the demo and by small sites.

One sample row per (measurement, tag set, field, time): writing the same key again
overwrites, as InfluxDB does. A series (measurement + canonical tag set) is stored once
and samples point at it, which keeps the sample key small and ingest fast. Every SQLite
call runs on one dedicated thread, never on the event loop. History buckets start at
epoch multiples of the interval, like InfluxQL's GROUP BY time().
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from connectors.store.base import Aggregate, HistoryBucket, HistoryQuery, StoreError
from connectors.store.influxql import from_ns, to_ns
from core.telemetry import FieldValue, Point

T = TypeVar("T")
SeriesKey = tuple[str, str]
Sample = tuple[int, str, int, float | None, str | None]

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    tags TEXT NOT NULL,            -- canonical JSON: sorted keys, empty values left out
    estate TEXT,                   -- copies of the tags history filters on
    device TEXT,
    UNIQUE (measurement, tags)
);
CREATE INDEX IF NOT EXISTS series_by_device ON series (measurement, device);
CREATE TABLE IF NOT EXISTS samples (
    series_id INTEGER NOT NULL REFERENCES series (id),
    field TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    value_real REAL,               -- numbers and booleans (true = 1.0)
    value_text TEXT,               -- strings
    PRIMARY KEY (series_id, field, time_ns)
) WITHOUT ROWID;
"""
INSERT_SERIES = "INSERT OR IGNORE INTO series (measurement, tags, estate, device) VALUES (?,?,?,?)"
SELECT_SERIES = "SELECT id FROM series WHERE measurement = ? AND tags = ?"
INSERT_SAMPLE = "INSERT OR REPLACE INTO samples VALUES (?, ?, ?, ?, ?)"
BUSY_TIMEOUT_S = 10.0
PAGE_CACHE_KIB = 65_536

_AGGREGATE_SQL = {
    Aggregate.MEAN: "AVG(value_real)",
    Aggregate.MIN: "MIN(value_real)",
    Aggregate.MAX: "MAX(value_real)",
    Aggregate.SUM: "SUM(value_real)",
    Aggregate.COUNT: "COUNT(*)",
    # SQLite takes bare columns from the row that holds the MAX(): the latest value.
    Aggregate.LAST: "value_real, MAX(time_ns)",
}


@lru_cache(maxsize=65_536)
def _canonical_items(items: tuple[tuple[str, str], ...]) -> str:
    kept = {key: value for key, value in sorted(items) if value != ""}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def canonical_tags(tags: Mapping[str, str]) -> str:
    return _canonical_items(tuple(tags.items()))


def _split_value(value: FieldValue) -> tuple[float | None, str | None]:
    if isinstance(value, str):
        return None, value
    return float(value), None


def _sample_key(sample: Sample) -> tuple[int, str, int]:
    return sample[0], sample[1], sample[2]


def history_sql(query: HistoryQuery) -> tuple[str, list[object]]:
    interval_ns = query.interval_s * 10**9
    if interval_ns <= 0:
        raise ValueError("interval_s must be positive")
    conditions = ["series.measurement = ?", "series.device = ?", "samples.field = ?",
                  "samples.time_ns >= ?", "samples.time_ns < ?"]
    params: list[object] = [query.measurement, query.device_id, query.field,
                            to_ns(query.start), to_ns(query.end)]
    if query.estate_id is not None:
        conditions.append("series.estate = ?")
        params.append(query.estate_id)
    if query.aggregate not in (Aggregate.COUNT, Aggregate.LAST):
        conditions.append("samples.value_real IS NOT NULL")
    # Floor division that stays right for times before 1970 too.
    bucket = f"time_ns - ((time_ns % {interval_ns}) + {interval_ns}) % {interval_ns}"
    sql = (
        f"SELECT bucket, {_AGGREGATE_SQL[Aggregate(query.aggregate)]} FROM ("
        f"SELECT {bucket} AS bucket, value_real, time_ns"
        " FROM samples JOIN series ON series.id = samples.series_id"
        f" WHERE {' AND '.join(conditions)}) GROUP BY bucket ORDER BY bucket"
    )
    return sql, params


class EmbeddedStore:
    def __init__(self, path: Path, *, max_bytes: int | None = None) -> None:
        """`max_bytes` caps the file's size; a write beyond it fails like a full disk."""
        self.path = path
        self._max_bytes = max_bytes
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded-store")
        self._db: sqlite3.Connection | None = None
        self._series_ids: dict[SeriesKey, int] = {}  # committed series only

    async def write(self, points: Sequence[Point]) -> None:
        if points:
            await self._run(self._insert, list(points))

    async def history(self, query: HistoryQuery) -> list[HistoryBucket]:
        sql, params = history_sql(query)
        records = await self._run(self._select_buckets, sql, params)
        return [HistoryBucket(start=from_ns(start_ns), value=value) for start_ns, value in records]

    async def ping(self) -> bool:
        try:
            await self._run(self._select_buckets, "SELECT 0, 1", [])
        except StoreError:
            return False
        return True

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=False)

    async def _run(self, work: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _guarded, work, *args)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
            if self._max_bytes is not None:
                page_size = db.execute("PRAGMA page_size").fetchone()[0]
                db.execute(f"PRAGMA max_page_count={max(1, self._max_bytes // page_size)}")
            db.executescript(SCHEMA)
            self._db = db
        return self._db

    def _insert(self, points: list[Point]) -> None:
        db = self._connection()
        new_series: dict[SeriesKey, int] = {}
        with db:  # one transaction: all samples or, on any error, none
            samples: list[Sample] = []
            for point in points:
                series_id = self._series_id(db, point, new_series)
                samples.extend((series_id, field, point.time_ns, *_split_value(value))
                               for field, value in point.fields.items())
            # Key order touches far fewer B-tree pages; the sort is stable, so of two
            # samples with the same key in one batch the later one still wins.
            samples.sort(key=_sample_key)
            db.executemany(INSERT_SAMPLE, samples)
        self._series_ids.update(new_series)

    def _series_id(self, db: sqlite3.Connection, point: Point,
                   new_series: dict[SeriesKey, int]) -> int:
        key = (point.measurement, canonical_tags(point.tags))
        found = self._series_ids.get(key, new_series.get(key))
        if found is None:
            db.execute(INSERT_SERIES, (*key, point.tags.get("estate"), point.tags.get("device")))
            found = int(db.execute(SELECT_SERIES, key).fetchone()[0])
            new_series[key] = found
        return found

    def _select_buckets(self, sql: str, params: list[object]) -> list[tuple[int, float | None]]:
        return [(int(start_ns), None if value is None else float(value))
                for start_ns, value, *_ in self._connection().execute(sql, params)]

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _guarded(work: Callable[..., T], *args: object) -> T:
    """Run on the store's thread, turning SQLite failures into StoreError."""
    try:
        return work(*args)
    except (sqlite3.InterfaceError, sqlite3.ProgrammingError, sqlite3.DataError,
            sqlite3.IntegrityError, OverflowError, ValueError) as exc:
        raise StoreError(f"embedded store refused the data: {exc}", retryable=False) from exc
    except (sqlite3.Error, OSError) as exc:
        # Full disk, locked file, I/O error: nothing was committed, try again later.
        raise StoreError(f"embedded store failed: {exc}", retryable=True) from exc
