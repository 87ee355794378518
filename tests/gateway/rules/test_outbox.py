"""Anomalies reach the intake in order, survive its hiccups, and are only counted without one."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from core.vocabulary import Anomaly, AnomalyKind
from gateway.rules import AnomalyOutbox
from tests.gateway.rules.support import builtin_engine, device, telemetry


def _anomalies() -> list[Anomaly]:
    engine = builtin_engine()
    leak = device("leak_sensor")
    return [*engine.reading(leak, telemetry(leak, 0, leak=True)),
            *engine.reading(leak, telemetry(leak, 1, leak=False))]


def _counted(kind: AnomalyKind) -> float:
    value = REGISTRY.get_sample_value("estateops_anomalies_total", {
        "kind": str(kind), "device_type": "leak_sensor", "rule": "water_leak"})
    return value or 0.0


async def test_a_failing_intake_is_retried_and_order_is_kept() -> None:
    delivered: list[Anomaly] = []
    failures = iter([True, True, False, False])

    async def flaky(anomaly: Anomaly) -> None:
        if next(failures):
            raise ConnectionError("work-order database restarting")
        delivered.append(anomaly)

    outbox = AnomalyOutbox(flaky, retry_delays_s=(0.01, 0.01, 0.01))
    anomalies = _anomalies()
    await outbox.put(anomalies)
    await outbox.drain()
    assert delivered == anomalies


async def test_shutdown_delivers_what_is_queued() -> None:
    delivered: list[Anomaly] = []
    delivering = asyncio.Event()

    async def slow(anomaly: Anomaly) -> None:
        delivering.set()
        await asyncio.sleep(0.05)  # a slow intake: the shutdown comes while it works
        delivered.append(anomaly)

    outbox = AnomalyOutbox(slow)
    runner = asyncio.create_task(outbox.run())
    await outbox.put(_anomalies())
    await asyncio.wait_for(delivering.wait(), timeout=5)  # the first is being delivered
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    assert [one.kind for one in delivered] == [AnomalyKind.RAISED, AnomalyKind.CLEARED]


async def test_without_an_intake_anomalies_are_only_counted() -> None:
    before = _counted(AnomalyKind.RAISED)
    outbox = AnomalyOutbox(None, queue_size=1)
    await asyncio.wait_for(outbox.put(_anomalies() * 3), timeout=5)  # never blocks
    assert _counted(AnomalyKind.RAISED) == before + 3
