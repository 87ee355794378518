"""Each device's last state and last-seen time, kept in memory and flushed to SQL."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ns_to_datetime
from core.telemetry import FieldValue
from core.upsert import Upsert, upsert_rows
from gateway import metrics
from gateway.shielded import flush_every
from gateway.tables import DeviceState

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PendingState:
    """Columns of DeviceState changed since the last flush (None: leave as stored)."""

    last_seen_ns: int
    online: bool | None = None
    status_changed_ns: int | None = None
    telemetry_ns: int | None = None
    telemetry: Mapping[str, FieldValue | None] | None = None
    event_ns: int | None = None
    event: Mapping[str, Any] | None = None
    seq: int | None = None

    def as_row(self, device_pk: int) -> dict[str, Any]:
        """Every column; None where this flush leaves the stored value as it is."""
        telemetry_changed = self.telemetry is not None and self.telemetry_ns is not None
        event_changed = self.event is not None and self.event_ns is not None
        return {
            "device_pk": device_pk,
            "last_seen_at": ns_to_datetime(self.last_seen_ns),
            "online": self.online,
            "status_changed_at": _optional_datetime(self.status_changed_ns),
            "last_telemetry": dict(self.telemetry or {}) if telemetry_changed else None,
            "last_telemetry_at": _optional_datetime(self.telemetry_ns if telemetry_changed
                                                    else None),
            "last_event": dict(self.event or {}) if event_changed else None,
            "last_event_at": _optional_datetime(self.event_ns if event_changed else None),
            "last_seq": self.seq,
        }


def _optional_datetime(ns: int | None) -> datetime | None:
    return None if ns is None else ns_to_datetime(ns)


class StateTracker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], flush_interval_s: float):
        self._sessions = sessions
        self._flush_interval_s = flush_interval_s
        self._pending: dict[int, PendingState] = {}
        self._newest_telemetry_ns: dict[int, int] = {}

    def _entry(self, device_pk: int, received_ns: int) -> PendingState:
        entry = self._pending.get(device_pk)
        if entry is None:
            entry = self._pending[device_pk] = PendingState(last_seen_ns=received_ns)
        entry.last_seen_ns = max(entry.last_seen_ns, received_ns)
        return entry

    def seen_telemetry(self, device_pk: int, *, time_ns: int, received_ns: int,
                       values: Mapping[str, FieldValue | None], seq: int | None) -> None:
        entry = self._entry(device_pk, received_ns)
        entry.online = True
        if time_ns < self._newest_telemetry_ns.get(device_pk, 0):
            return  # a late, older reading must not overwrite a newer last state
        self._newest_telemetry_ns[device_pk] = time_ns
        entry.telemetry_ns, entry.telemetry, entry.seq = time_ns, values, seq

    def seen_event(self, device_pk: int, *, time_ns: int, received_ns: int,
                   event: Mapping[str, Any]) -> None:
        entry = self._entry(device_pk, received_ns)
        entry.online = True
        if entry.event_ns is None or time_ns >= entry.event_ns:
            entry.event_ns, entry.event = time_ns, event

    def seen_status(self, device_pk: int, *, online: bool, received_ns: int) -> None:
        entry = self._entry(device_pk, received_ns)
        entry.online = online
        entry.status_changed_ns = received_ns

    async def run(self) -> None:
        await flush_every(self._flush_interval_s, self.flush, what="device state")

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            await self._write([entry.as_row(device_pk) for device_pk, entry in pending.items()])
        except BaseException:
            for device_pk, entry in pending.items():
                self._pending.setdefault(device_pk, entry)
            raise

    async def _write(self, rows: list[dict[str, Any]]) -> None:
        """Write the rows in one transaction; if the database refuses one as bad data, split
        them until it is found, so the others are saved and only that row is dropped."""
        try:
            await self._write_batch(rows)
        except (StatementError, OverflowError) as exc:
            if not _bad_data(exc):
                raise
            if len(rows) > 1:
                middle = len(rows) // 2
                await self._write(rows[:middle])
                await self._write(rows[middle:])
                return
            metrics.STATE_ROWS_DROPPED.inc()
            log.error("device state of device %s refused by the database, dropped: %s",
                      rows[0]["device_pk"], exc)

    async def _write_batch(self, rows: list[dict[str, Any]]) -> None:
        async with self._sessions.begin() as session:
            await upsert_rows(await session.connection(), _UPSERT, rows)


def _bad_data(exc: Exception) -> bool:
    """The database (or its driver) refused a value or a reference, not the connection."""
    # sqlite3 raises OverflowError for an integer over 64 bits, unwrapped by aiosqlite.
    if isinstance(exc, DataError | IntegrityError | OverflowError):
        return True
    return (isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)
            and isinstance(exc.orig, OverflowError | ValueError))


# A row's None keeps the stored value: a flush sets only the columns that changed.
_UPSERT = Upsert(cast(Table, DeviceState.__table__), keys=("device_pk",),
                 update=tuple(column.name for column in DeviceState.__table__.columns
                              if column.name != "device_pk"), keep_unset=True)
