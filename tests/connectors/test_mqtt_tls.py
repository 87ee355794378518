"""EstateOps' own MQTT client (connectors.mqtt: the gateway's consumer, the alert
publisher) over TLS to the shipped broker config, trusting only a CA made for the test."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiomqtt
import pytest

from connectors.mqtt import MqttSettings, Publisher, consume, mqtt_client
from tests.fixtures.secure_broker import SERVICE_PASSWORDS, SecureBroker
from tests.utils.tls import make_test_ca
from tests.utils.waiting import wait_until

ALERTS = "estateops/alerts/tls-test/P1/1"


def api_account(broker: SecureBroker, *, ca_file: Path | None) -> MqttSettings:
    return MqttSettings(url=f"mqtts://localhost:{broker.service_port}",
                        username="estateops-api", password=SERVICE_PASSWORDS["estateops-api"],
                        ca_file=ca_file, client_id="tls-test")


async def test_consumer_and_publisher_speak_tls(secure_broker: SecureBroker) -> None:
    settings = api_account(secure_broker, ca_file=secure_broker.ca_file)
    received: list[bytes] = []
    connected = asyncio.Event()

    async def handle(_topic: str, payload: bytes, _received_ns: int) -> None:
        received.append(payload)

    consumer = asyncio.create_task(consume(settings, handle, connected,
                                           subscription="estateops/alerts/#",
                                           persistent=False, client_id="tls-test-in"))
    publisher = Publisher(settings, client_id="tls-test-out")
    try:
        await asyncio.wait_for(connected.wait(), 15)
        await publisher.publish(ALERTS, b'{"over": "tls"}')
        assert await wait_until(lambda: received == [b'{"over": "tls"}'], within=10)
    finally:
        await publisher.aclose()
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer


async def test_a_broker_the_ca_did_not_sign_is_refused(secure_broker: SecureBroker,
                                                       tmp_path: Path) -> None:
    stranger = make_test_ca(tmp_path / "other-ca").ca_file
    with pytest.raises(aiomqtt.MqttError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
        async with mqtt_client(api_account(secure_broker, ca_file=stranger), persistent=False):
            pass
