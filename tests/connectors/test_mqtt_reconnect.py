"""The consumer is back within a few seconds of a real Mosquitto's kill -9 and restart,
however long the broker was away (the backoff is capped like a device's: 1-2 s)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import aiomqtt
import pytest

from connectors.mqtt import Delivery, MqttSettings, consume, consume_batches
from tests.fixtures.mosquitto import mosquitto_config
from tests.fixtures.processes import free_port, require_binary, running
from tests.utils.waiting import wait_until

DOWN_S = 20.0  # long enough for an uncapped doubling backoff to reach 8-16 s
BACK_WITHIN_S = 3.0


@pytest.mark.parametrize("gateway_reader", [False, True],
                         ids=["consume (aiomqtt)", "consume_batches (the gateway's)"])
async def test_consumer_reconnects_within_seconds_after_a_long_broker_outage(
        tmp_path: Path, gateway_reader: bool) -> None:
    binary = require_binary("mosquitto", "mosquitto", search=["/usr/sbin/mosquitto"])
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(mosquitto_config(port, tmp_path))
    settings = MqttSettings(url=f"mqtt://127.0.0.1:{port}", client_id="reconnect-test",
                            topic="reconnect/#")
    received: list[bytes] = []

    async def handle(_topic: str, payload: bytes, _received_ns: int) -> None:
        received.append(payload)

    async def handle_batch(batch: list[Delivery]) -> None:
        for delivery in batch:
            received.append(delivery.payload)
            delivery.ack()

    connected = asyncio.Event()
    with running([binary, "-c", str(config)], log=tmp_path / "first.log", what="mosquitto",
                 port=port) as broker:
        consumer = asyncio.create_task(
            consume_batches(settings, handle_batch, connected) if gateway_reader
            else consume(settings, handle, connected))
        assert await wait_until(connected.is_set, within=10)
        broker.kill()  # kill -9: no goodbye to the client
        broker.wait()
    try:
        assert await wait_until(lambda: not connected.is_set(), within=10)
        await asyncio.sleep(DOWN_S)
        with running([binary, "-c", str(config)], log=tmp_path / "second.log",
                     what="mosquitto", port=port):
            back_at = time.monotonic()
            assert await wait_until(connected.is_set, within=30)
            took = time.monotonic() - back_at
            async with aiomqtt.Client("127.0.0.1", port) as device:
                await device.publish("reconnect/leak-1", b"after", qos=1)
            assert await wait_until(lambda: b"after" in received, within=10)
    finally:
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
    print(f"reconnected {took:.2f} s after the broker came back (down {DOWN_S:.0f} s)")
    assert took <= BACK_WITHIN_S
