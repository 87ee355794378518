"""SIGTERM under load: a real `estateops gateway` fed a steady QoS 1 stream over real
Mosquitto exits within a few seconds, flushing what it holds to real InfluxDB 1.6.

Before the fix, `PointWriter._next_batch` awaited `asyncio.wait_for(queue.get(), ...)`, which
on Python 3.11 returns the item instead of raising when the get completes as the task is
cancelled: the writer never saw the cancellation and the gateway ran on (compose SIGKILLs
it after its grace period, losing what was acknowledged and not yet written).
"""

from __future__ import annotations

from tests.delivery.conftest import SetUp
from tests.fixtures.influx import HttpServer
from tests.fixtures.mosquitto import Broker

DEVICES = 200
RATE = 2_000.0  # msg/s offered: above half of what the gateway handles on 2 cores
LOAD_POINTS = 3_000  # stored by a round's gateway before its SIGTERM: it is in full flow
EXIT_WITHIN_S = 5.0
ROUNDS = 3  # each SIGTERM is a fresh chance for the race the old code lost


async def test_sigterm_under_load_exits_within_seconds_and_loses_nothing(
        mosquitto: Broker, influxdb_v1: HttpServer, delivery: SetUp) -> None:
    setup = await delivery(devices=DEVICES, broker=mosquitto, influx=influxdb_v1)
    stream = setup.stream(RATE)
    exits: list[float | None] = []
    for round_ in range(1, ROUNDS + 1):
        await setup.gateways.start()
        stream.stop.clear()
        publishing = setup.publish(stream)
        await setup.storing(LOAD_POINTS)
        exits.append(await setup.gateways.terminate(0, within=EXIT_WITHIN_S))
        stream.stop.set()
        await publishing
        assert exits[-1] is not None, (
            f"still running {EXIT_WITHIN_S} s after SIGTERM (round {round_}):\n"
            + setup.gateways.tails())
    # The persistent session kept what arrived while no gateway ran; one more drains it.
    await setup.gateways.start()
    stored = await setup.all_stored(stream)
    print(f"sent {stream.sent}, stored {stored}, exits after SIGTERM (s): "
          + ", ".join(f"{seconds:.2f}" for seconds in exits if seconds is not None))
    # With acknowledgement on receipt, what sat in aiomqtt's queue at SIGTERM was lost
    # (measured: 10 400 of 19 593 stored); acknowledged once stored, it is redelivered.
    assert stored == stream.sent
