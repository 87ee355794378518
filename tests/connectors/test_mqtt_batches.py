"""The gateway's consumer (connectors.mqtt.consume_batches) on a real Mosquitto: messages
come in lists, a QoS 1 message is acknowledged only when its Ack is called, and what was not
acknowledged comes again on the next connection of the persistent session."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiomqtt

from connectors.mqtt import Delivery, MqttSettings, Publisher, consume_batches
from tests.fixtures.mosquitto import Broker
from tests.fixtures.secure_broker import SERVICE_PASSWORDS, SecureBroker
from tests.utils.waiting import wait_until

MESSAGES = 2_000


@asynccontextmanager
async def consuming(settings: MqttSettings,
                    received: list[Delivery]) -> AsyncIterator[list[int]]:
    """Run the consumer, appending what it gets; yields the sizes of the lists it got."""
    sizes: list[int] = []
    connected = asyncio.Event()

    async def handle_batch(batch: list[Delivery]) -> None:
        sizes.append(len(batch))
        received.extend(batch)

    consumer = asyncio.create_task(consume_batches(settings, handle_batch, connected))
    try:
        await asyncio.wait_for(connected.wait(), 15)
        yield sizes
    finally:
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer


async def publish(broker: Broker, topic: str, count: int) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as client:
        for n in range(count):
            await client.publish(topic, str(n).encode(), qos=1)


async def test_only_acknowledged_messages_stay_acknowledged(mosquitto: Broker) -> None:
    estate = f"batch-{uuid.uuid4().hex[:8]}"
    settings = MqttSettings(url=mosquitto.url, client_id=f"gw-{estate}",
                            topic=f"estates/{estate}/+/+/+")
    topic = f"estates/{estate}/leak_sensor/leak-1/telemetry"
    first: list[Delivery] = []
    async with consuming(settings, first) as sizes:
        await publish(mosquitto, topic, MESSAGES)
        assert await wait_until(lambda: len(first) == MESSAGES, within=30), len(first)
        for delivery in first:
            if int(delivery.payload) % 2 == 0:
                delivery.ack()
        await asyncio.sleep(0.5)  # the reader thread sends the acks
    assert [int(delivery.payload) for delivery in first] == list(range(MESSAGES))
    assert {delivery.topic for delivery in first} == {topic}
    assert len(sizes) < MESSAGES  # handed over in lists, not one by one

    again: list[Delivery] = []
    async with consuming(settings, again):
        assert await wait_until(lambda: len(again) >= MESSAGES // 2, within=30), len(again)
        await asyncio.sleep(0.5)  # nothing more comes
    assert sorted(int(delivery.payload) for delivery in again) == list(range(1, MESSAGES, 2))


async def test_the_consumer_speaks_tls(secure_broker: SecureBroker) -> None:
    settings = MqttSettings(url=f"mqtts://localhost:{secure_broker.service_port}",
                            username="estateops-api",
                            password=SERVICE_PASSWORDS["estateops-api"],
                            ca_file=secure_broker.ca_file, client_id="tls-batches",
                            topic="estateops/alerts/#")
    received: list[Delivery] = []
    publisher = Publisher(settings, client_id="tls-batches-out")
    try:
        async with consuming(settings, received):
            for n in range(20):
                await publisher.publish(f"estateops/alerts/tls-test/P1/{n}", b'{"over": "tls"}')
            assert await wait_until(lambda: len(received) == 20, within=10), len(received)
    finally:
        await publisher.aclose()
    assert {delivery.payload for delivery in received} == {b'{"over": "tls"}'}
