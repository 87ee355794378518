"""One device's bad state row cannot sink the batched device-state flush for the others.

The decoder already refuses a seq over 2**63 - 1; these rows bypass it, as a future bug or a
device removed from the registry mid-flush would, and go to the real database.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import metrics
from gateway.state import StateTracker
from gateway.tables import DeviceState
from registry.tables import Device
from tests.utils.estates import register_small_estate

NOT_A_DEVICE_PK = 2**31 - 7


async def _device_pks(sessions: async_sessionmaker[AsyncSession], estate_id: str) -> list[int]:
    async with sessions() as session:
        return list(await session.scalars(
            select(Device.id).where(Device.estate_id == estate_id).order_by(Device.id)))


async def _stored(sessions: async_sessionmaker[AsyncSession]) -> dict[int, int | None]:
    async with sessions() as session:
        rows = await session.scalars(select(DeviceState))
        return {row.device_pk: row.last_seq for row in rows}


async def test_a_row_the_database_refuses_is_dropped_and_the_rest_are_saved(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    good_pks = await _device_pks(sessions, await register_small_estate(sessions))
    tracker = StateTracker(sessions, flush_interval_s=60)
    now = time.time_ns()
    for seq, device_pk in [(2**64, good_pks[0]), (7, NOT_A_DEVICE_PK),
                           *[(index, pk) for index, pk in enumerate(good_pks[1:])]]:
        tracker.seen_telemetry(device_pk, time_ns=now, received_ns=now, values={"leak": True},
                               seq=seq)
    dropped_before = metrics.STATE_ROWS_DROPPED._value.get()

    await tracker.flush()

    assert await _stored(sessions) == {pk: index for index, pk in enumerate(good_pks[1:])}
    assert metrics.STATE_ROWS_DROPPED._value.get() - dropped_before == 2
    await tracker.flush()  # nothing left over to retry forever
    assert metrics.STATE_ROWS_DROPPED._value.get() - dropped_before == 2


async def test_the_next_flush_of_the_same_device_is_saved(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    device_pk = (await _device_pks(sessions, await register_small_estate(sessions)))[0]
    tracker = StateTracker(sessions, flush_interval_s=60)
    now = time.time_ns()
    tracker.seen_telemetry(device_pk, time_ns=now, received_ns=now, values={}, seq=2**64)
    await tracker.flush()
    tracker.seen_telemetry(device_pk, time_ns=now + 1, received_ns=now + 1, values={}, seq=9)
    await tracker.flush()
    assert await _stored(sessions) == {device_pk: 9}


async def test_a_flush_keeps_what_it_does_not_change(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """One statement writes every column of every row; a column this flush has no news of
    keeps its stored value (not SQL NULL, not JSON null)."""
    device_pk = (await _device_pks(sessions, await register_small_estate(sessions)))[0]
    tracker = StateTracker(sessions, flush_interval_s=60)
    now = time.time_ns()
    tracker.seen_telemetry(device_pk, time_ns=now, received_ns=now, values={"leak": True},
                           seq=3)
    tracker.seen_event(device_pk, time_ns=now, received_ns=now, event={"event": "tamper"})
    await tracker.flush()
    tracker.seen_status(device_pk, online=False, received_ns=now + 5)
    await tracker.flush()

    async with sessions() as session:
        row = await session.get(DeviceState, device_pk)
    assert row is not None
    assert (row.online, row.last_telemetry, row.last_event, row.last_seq) == (
        False, {"leak": True}, {"event": "tamper"}, 3)
    assert row.status_changed_at is not None
    assert row.last_telemetry_at is not None
    assert row.last_event_at is not None
