"""What a flood of hostile messages can make the gateway hold in memory is bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import metrics
from gateway.deadletters import DeadLetterSink
from gateway.directory import DeviceDirectory
from gateway.rules.lateness import OFFSET_WINDOW, LatenessJudge
from gateway.tables import DeadLetter
from gateway.validation import RejectReason


async def test_bogus_device_ids_are_remembered_up_to_the_bound(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    directory = DeviceDirectory(sessions, refresh_s=60, max_misses=10)
    for index in range(50):
        assert await directory.lookup("nowhere", f"ghost-{index}") is None
    assert directory.remembered_misses == 10


def _add(sink: DeadLetterSink, size: int) -> None:
    sink.add(received_at=datetime.now(UTC), topic="estates/e/t/d/telemetry",
             reason=RejectReason.not_json_object, detail="x", payload=b"x" * size)


async def test_dead_letters_waiting_for_the_database_are_bounded_in_bytes(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    sink = DeadLetterSink(sessions, max_pending=1000, max_pending_bytes=200_000)
    lost_before = metrics.DEAD_LETTERS_LOST._value.get()
    for _ in range(10):
        _add(sink, 60_000)  # only three fit
    assert metrics.DEAD_LETTERS_LOST._value.get() - lost_before == 7
    await sink.flush()
    for _ in range(3):  # saved letters no longer count against the bound
        _add(sink, 60_000)
    await sink.flush()
    assert metrics.DEAD_LETTERS_LOST._value.get() - lost_before == 7
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeadLetter)) == 6


def test_the_lateness_judge_remembers_up_to_its_bound_of_devices() -> None:
    judge = LatenessJudge(max_devices=10)
    for device_pk in range(50):
        for n in range(2 * OFFSET_WINDOW):
            judge.late(device_pk, time_ns=n, received_ns=n + 1_000, lateness_ns=10_000)
    assert len(judge) == 10
    # the newest devices are the ones kept: device 49's usual delay is still known
    assert judge.late(49, time_ns=0, received_ns=20_000, lateness_ns=10_000)
    assert not judge.late(0, time_ns=0, received_ns=20_000, lateness_ns=10_000)


def test_a_delay_beyond_int64_is_judged_not_crashed() -> None:
    judge = LatenessJudge()
    assert not judge.late(1, time_ns=-(1 << 70), received_ns=0, lateness_ns=1)
    assert not judge.late(1, time_ns=0, received_ns=1, lateness_ns=1)
