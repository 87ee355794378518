"""Anomalies reach the intake in order from the outbox table, survive its hiccups and a
restart, and are only counted without an intake."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Anomaly, AnomalyKind
from device_profiles import load_profiles
from gateway.rules import AnomalyOutbox, RuleStage
from gateway.rules.outbox import anomaly_from_json, anomaly_to_json
from gateway.rules.persistence import Effects, save_effects
from tests.gateway.rules.support import T0, builtin_engine, device, telemetry
from tests.utils.waiting import wait_until

Sessions = async_sessionmaker[AsyncSession]


def _anomalies() -> list[Anomaly]:
    engine = builtin_engine()
    leak = device("leak_sensor")
    return [*engine.reading(leak, telemetry(leak, 0, leak=True)),
            *engine.reading(leak, telemetry(leak, 1, leak=False))]


def _counted(kind: AnomalyKind) -> float:
    value = REGISTRY.get_sample_value("estateops_anomalies_total", {
        "kind": str(kind), "device_type": "leak_sensor", "rule": "water_leak"})
    return value or 0.0


async def _saved(sessions: Sessions, anomalies: list[Anomaly]) -> None:
    await save_effects(sessions, Effects(anomalies=[anomaly_to_json(one) for one in anomalies]),
                       T0)


def test_an_anomaly_comes_back_from_its_row_unchanged() -> None:
    for anomaly in _anomalies():
        assert anomaly_from_json(anomaly_to_json(anomaly)) == anomaly


async def test_a_failing_intake_is_retried_order_is_kept_and_rows_go(sessions: Sessions) -> None:
    delivered: list[Anomaly] = []
    failures = iter([True, True, False, False])

    async def flaky(anomaly: Anomaly) -> None:
        if next(failures):
            raise ConnectionError("work-order database restarting")
        delivered.append(anomaly)

    outbox = AnomalyOutbox(flaky, sessions, retry_delays_s=(0.01, 0.01, 0.01))
    anomalies = _anomalies()
    await _saved(sessions, anomalies)
    assert await outbox.pending() == 2
    assert await outbox.drain()
    assert delivered == anomalies
    assert await outbox.pending() == 0


async def test_a_row_the_intake_keeps_refusing_stays_for_the_next_round(
        sessions: Sessions) -> None:
    async def down(anomaly: Anomaly) -> None:
        raise ConnectionError("work-order database down")

    await _saved(sessions, _anomalies())
    assert not await AnomalyOutbox(down, sessions, retry_delays_s=(0.01,)).drain()
    assert await AnomalyOutbox(down, sessions).pending() == 2


async def test_what_a_stopped_gateway_left_is_delivered_at_start(sessions: Sessions) -> None:
    await _saved(sessions, _anomalies())  # committed with its rule state, then kill -9
    delivered: list[Anomaly] = []

    async def intake(anomaly: Anomaly) -> None:
        delivered.append(anomaly)

    runner = asyncio.create_task(AnomalyOutbox(intake, sessions).run())
    try:
        assert await wait_until(lambda: len(delivered) == 2, within=5)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert [one.kind for one in delivered] == [AnomalyKind.RAISED, AnomalyKind.CLEARED]


async def test_without_an_intake_anomalies_are_only_counted(sessions: Sessions) -> None:

    before = _counted(AnomalyKind.RAISED)
    stage = RuleStage.build(load_profiles(), sessions, sink=None)
    leak = device("leak_sensor")
    for second in range(3):
        await stage.on_reading(leak, telemetry(leak, 2 * second, leak=True))
        await stage.on_reading(leak, telemetry(leak, 2 * second + 1, leak=False))
    await stage.flush()
    assert _counted(AnomalyKind.RAISED) == before + 3
    assert await stage.outbox.pending() == 0


async def test_each_gateway_delivers_only_the_rows_it_saved(sessions: Sessions) -> None:
    """Two gateways delivering one row around another would count it as a recurrence."""
    anomalies = _anomalies()
    for owner, anomaly in zip(("gw-a", "gw-b"), anomalies, strict=True):
        await save_effects(sessions, Effects(anomalies=[anomaly_to_json(anomaly)],
                                             owner=owner), T0)
    delivered: dict[str, list[Anomaly]] = {"gw-a": [], "gw-b": []}
    for owner, received in delivered.items():
        async def intake(anomaly: Anomaly, received: list[Anomaly] = received) -> None:
            received.append(anomaly)

        assert await AnomalyOutbox(intake, sessions, owner=owner).drain()
    assert delivered == {"gw-a": anomalies[:1], "gw-b": anomalies[1:]}
