"""A durable, bounded on-disk spool of point batches, for while the store is away.

One SQLite database in WAL mode (stdlib sqlite3), run on one dedicated thread so no call
blocks the event loop. Batches go in order and come back oldest first; a batch is removed
only once the store has it, so a crash between the write and the removal replays it again
(a replayed point lands on its own key in the store: it is not stored twice).

Encoding: a batch is a JSON list of `[measurement, tags, fields, time_ns]`, zlib-compressed.
JSON keeps bool, int, float (NaN too) and str apart, so a batch reads back as the same points.

Bound: `max_bytes` of database pages in use. An append that would pass it raises SpoolFull
without writing; `PRAGMA max_page_count` caps the file a little above the bound should the
estimate ever be short, and a disk that fills first gives the same SpoolFull. The WAL file
is checkpointed every ~4 MB and truncated back to `WAL_LIMIT_BYTES`.

Durability (`synchronous`): with FULL, each append is fsynced before it returns, so an
acknowledged batch survives a power loss. With NORMAL, the WAL is fsynced only at
checkpoints: an append survives kill -9 of the gateway (the operating system has it), but
the last appends before a power loss or kernel crash can be lost (the database stays
consistent). The gateway acknowledges what it spools, so FULL is the default.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from core.telemetry import Point

T = TypeVar("T")

WAL_LIMIT_BYTES = 8 * 1024 * 1024
HARD_CAP_SLACK_BYTES = 16 * 1024 * 1024  # max_page_count above the bound: a backstop only


class Synchronous(StrEnum):
    FULL = "FULL"  # fsync every append: survives power loss
    NORMAL = "NORMAL"  # fsync at checkpoints: survives kill -9, not power loss


class SpoolError(Exception):
    """The spool could not take a batch (nothing of it was written)."""


class SpoolFull(SpoolError):
    """The spool is at its bound, or its disk is full."""


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """The oldest spooled batches, as one: `last_id` is the newest of them."""

    last_id: int
    points: list[Point]


def encode(points: Sequence[Point]) -> bytes:
    rows = [[p.measurement, dict(p.tags), dict(p.fields), p.time_ns] for p in points]
    return zlib.compress(json.dumps(rows, separators=(",", ":")).encode(), 1)


def decode(body: bytes) -> list[Point]:
    return [Point(measurement, tags, fields, time_ns)
            for measurement, tags, fields, time_ns in json.loads(zlib.decompress(body))]


class Spool:
    """Append batches, read the oldest, remove it once stored. `open` before use."""

    def __init__(self, path: Path, *, max_bytes: int,
                 synchronous: Synchronous = Synchronous.FULL) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._synchronous = synchronous
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool")
        self._db: sqlite3.Connection | None = None
        self._page_size = 4096
        self.points = 0  # points spooled now
        self.bytes = 0  # database pages in use, in bytes

    async def open(self) -> None:
        await self._run(self._open)

    async def close(self) -> None:
        await self._run(self._close)
        self._thread.shutdown(wait=True)

    async def append(self, points: Sequence[Point]) -> None:
        """Durably add a batch after all earlier ones; SpoolFull/SpoolError: not added."""
        body = await self._run(lambda: encode(points))
        if self.bytes + len(body) > self.max_bytes:
            raise SpoolFull(f"spool full: {self.bytes} of {self.max_bytes} bytes in use")
        await self._run(lambda: self._insert(len(points), body))

    async def oldest(self, max_points: int = 1) -> SpooledBatch | None:
        """The oldest batch, and the ones after it while they fit in `max_points` (small
        batches spooled at a low rate are replayed in store-sized writes)."""
        return await self._run(lambda: self._oldest(max_points))

    async def remove(self, last_id: int) -> None:
        """Remove the oldest batches, through `last_id`."""
        await self._run(lambda: self._delete(last_id))

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    # On the spool's thread only:

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={self._synchronous.value}")
        db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        db.execute("CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, "
                   "points INTEGER NOT NULL, body BLOB NOT NULL)")
        self._page_size = db.execute("PRAGMA page_size").fetchone()[0]
        cap = (self.max_bytes + HARD_CAP_SLACK_BYTES) // self._page_size
        db.execute(f"PRAGMA max_page_count={max(cap, self._pages(db))}")
        self._db = db
        self.points = db.execute("SELECT coalesce(sum(points), 0) FROM batches").fetchone()[0]
        self._measure()

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise SpoolError(f"spool {self.path} is not open")
        return self._db

    def _insert(self, points: int, body: bytes) -> None:
        try:
            self._connection().execute("INSERT INTO batches (points, body) VALUES (?, ?)",
                                       (points, body))
        except sqlite3.Error as exc:
            if exc.sqlite_errorcode == sqlite3.SQLITE_FULL:
                raise SpoolFull(f"spool {self.path}: disk full ({exc})") from exc
            raise SpoolError(f"spool {self.path}: {exc}") from exc
        self.points += points
        self._measure()

    def _oldest(self, max_points: int) -> SpooledBatch | None:
        rows = self._connection().execute(
            "SELECT id, points, body FROM batches ORDER BY id LIMIT 1000")
        last_id, points = None, []
        for batch_id, count, body in rows:
            if last_id is not None and len(points) + count > max_points:
                break
            last_id = batch_id
            points.extend(decode(body))
        rows.close()
        return None if last_id is None else SpooledBatch(last_id, points)

    def _delete(self, last_id: int) -> None:
        db = self._connection()
        removed = db.execute("DELETE FROM batches WHERE id <= ? RETURNING points",
                             (last_id,)).fetchall()
        self.points -= sum(count for (count,) in removed)
        self._measure()

    def _measure(self) -> None:
        db = self._connection()
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        self.bytes = (self._pages(db) - free) * self._page_size

    @staticmethod
    def _pages(db: sqlite3.Connection) -> int:
        return int(db.execute("PRAGMA page_count").fetchone()[0])
