"""A message's rule effects are saved in one transaction with the anomalies they raised and
its seq, before the message is acknowledged; acknowledgements leave in receive order; the
de-duplication comes back after a restart. On both databases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_profiles import load_profiles
from gateway.dedupe import Deduplicator
from gateway.rules import RuleStage
from gateway.rules import stage as stage_module
from gateway.rules.tables import OutboxAnomaly, StoredRuleState
from registry.queries import DeviceRef, find_device
from tests.gateway.rules.support import CollectingSink, manual_clock, telemetry
from tests.utils.estates import DEVICES, register_small_estate

Sessions = async_sessionmaker[AsyncSession]
Ack = Callable[[], None]


async def _leak_sensor(sessions: Sessions) -> DeviceRef:
    estate_id = await register_small_estate(sessions)
    async with sessions() as session:
        found = await find_device(session, estate_id, DEVICES["leak_sensor"])
    assert found is not None
    return found


async def _saved(sessions: Sessions) -> tuple[bool, int]:
    """(any rule state saved, outbox rows) in the database."""
    async with sessions() as session:
        states = await session.scalar(select(func.count()).select_from(StoredRuleState))
        rows = await session.scalar(select(func.count()).select_from(OutboxAnomaly))
    return bool(states), rows or 0


class Store:
    """Stands for PointWriter.when_written: holds acks until `stored()` (points written)."""

    def __init__(self) -> None:
        self.waiting: list[Ack] = []
        self.up = True

    def when_written(self, ack: Ack) -> None:
        if self.up:
            ack()
        else:
            self.waiting.append(ack)

    def stored(self) -> None:
        self.up = True
        waiting, self.waiting = self.waiting, []
        for ack in waiting:
            ack()


def _stage(sessions: Sessions, store: Store, dedupe: Deduplicator | None = None) -> RuleStage:
    return RuleStage.build(load_profiles(), sessions, sink=CollectingSink(),
                           clock=manual_clock(), dedupe=dedupe,
                           when_stored=store.when_written)


async def test_a_leak_is_acknowledged_once_its_state_and_anomaly_are_saved_together(
        sessions: Sessions) -> None:
    leak = await _leak_sensor(sessions)
    stage = _stage(sessions, Store())
    acked: list[str] = []
    await stage.on_reading(leak, telemetry(leak, 0, leak=True))
    stage.when_saved(lambda: acked.append("wet"), stage.generation)
    assert acked == []
    assert await _saved(sessions) == (False, 0)
    await stage.flush()
    assert acked == ["wet"]
    assert await _saved(sessions) == (True, 1)  # "raised" and its anomaly, one transaction


async def test_acknowledgements_leave_in_receive_order_flush_by_flush(
        sessions: Sessions) -> None:
    leak = await _leak_sensor(sessions)
    stage = _stage(sessions, Store())
    acked: list[int] = []
    await stage.on_reading(leak, telemetry(leak, 0, leak=True))
    stage.when_saved(lambda: acked.append(1), stage.generation)
    stage.when_saved(lambda: acked.append(2), stage.generation)
    flushing = stage.generation
    await stage.flush()
    await stage.on_reading(leak, telemetry(leak, 1, leak=False))
    stage.when_saved(lambda: acked.append(3), stage.generation)
    stage.when_saved(lambda: acked.append(0), flushing)  # an older one now: at once
    assert acked == [1, 2]
    await stage.flush()
    assert acked == [1, 2, 3, 0]


async def test_a_flush_waits_for_the_store_so_a_seq_is_never_saved_before_its_points(
        sessions: Sessions, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stage_module, "STORE_WAIT_S", 0.05)
    leak = await _leak_sensor(sessions)
    store = Store()
    stage = _stage(sessions, store)
    store.up = False  # the points of the next message are not written yet
    reading = replace(telemetry(leak, 0, leak=True), seq=7)
    assert stage.dedupe.first_time(leak.pk, "t", reading, b"{}")
    await stage.on_reading(leak, reading)
    acked: list[str] = []
    stage.when_saved(lambda: acked.append("wet"), stage.generation)
    await stage.flush()
    assert (acked, await _saved(sessions)) == ([], (False, 0))  # nothing saved, nothing acked
    store.stored()
    await stage.flush()
    assert (acked, await _saved(sessions)) == (["wet"], (True, 1))


async def test_the_de_duplication_comes_back_after_a_restart(sessions: Sessions) -> None:
    leak = await _leak_sensor(sessions)
    store = Store()
    before = _stage(sessions, store)
    with_seq = replace(telemetry(leak, 0, leak=False), seq=41)
    without_seq = telemetry(leak, 1, leak=False)
    topic = f"estates/{leak.estate_id}/leak_sensor/{leak.device_id}/telemetry"
    assert before.dedupe.first_time(leak.pk, topic, with_seq, b"a")
    assert before.dedupe.first_time(leak.pk, topic, without_seq, b"b")
    await before.flush()

    after = _stage(sessions, store, Deduplicator())  # a new process, same database
    await after.start()
    assert not after.dedupe.first_time(leak.pk, topic, with_seq, b"a")
    assert not after.dedupe.first_time(leak.pk, topic, without_seq, b"b")
    assert after.dedupe.first_time(leak.pk, topic, replace(with_seq, seq=42), b"a")
