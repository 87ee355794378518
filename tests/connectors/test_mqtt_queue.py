"""The consumer's incoming queue against a real Mosquitto: bounded by `max_queued_messages`,
with what overflows counted (and lost: paho acknowledges a QoS 1 message on receipt)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError

from connectors.mqtt import BrokerOptions, MqttSettings, consume
from tests.fixtures.mosquitto import Broker
from tests.utils.waiting import wait_until

BOUND = 25
PUBLISHED = 200


def _queued(client_id: str) -> float | None:
    return REGISTRY.get_sample_value("estateops_mqtt_incoming_queued", {"client_id": client_id})


def _dropped(client_id: str) -> float | None:
    return REGISTRY.get_sample_value("estateops_mqtt_incoming_dropped_total",
                                     {"client_id": client_id})


class BlockedHandler:
    """Takes the first message, then holds it until released; records what it handled."""

    def __init__(self) -> None:
        self.handled: list[int] = []
        self.release = asyncio.Event()

    async def __call__(self, _topic: str, payload: bytes, _received_ns: int) -> None:
        self.handled.append(json.loads(payload)["n"])
        await self.release.wait()


@contextlib.asynccontextmanager
async def consuming(settings: MqttSettings, handler: BlockedHandler) -> AsyncIterator[None]:
    connected = asyncio.Event()
    task = asyncio.create_task(consume(settings, handler, connected, persistent=False))
    try:
        await asyncio.wait_for(connected.wait(), timeout=15)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _settings(mosquitto: Broker, max_queued: int) -> tuple[MqttSettings, str]:
    name = f"queue-{uuid.uuid4().hex[:8]}"
    settings = MqttSettings(url=mosquitto.url, client_id=name, topic=f"tests/{name}/#",
                            max_queued_messages=max_queued)
    return settings, f"tests/{name}/n"


async def _publish(mosquitto: Broker, topic: str, count: int, *, first: int = 0) -> None:
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as device:
        for n in range(first, first + count):
            await device.publish(topic, json.dumps({"n": n}), qos=1)


async def test_a_blocked_handler_fills_the_queue_to_its_bound_and_the_rest_is_counted(
        mosquitto: Broker) -> None:
    settings, topic = _settings(mosquitto, BOUND)
    handler = BlockedHandler()
    async with consuming(settings, handler):
        cid = settings.client_id
        await _publish(mosquitto, topic, PUBLISHED)
        # Every message arrives: one held by the handler, the bound's worth queued, the
        # rest discarded and counted.
        arrived = await wait_until(
            lambda: len(handler.handled) + (_queued(cid) or 0) + (_dropped(cid) or 0)
            >= PUBLISHED)
        assert arrived, (handler.handled, _queued(cid), _dropped(cid))
        assert handler.handled == [0]
        assert _queued(cid) == BOUND
        assert _dropped(cid) == PUBLISHED - 1 - BOUND

        handler.release.set()
        # A marker after the release: once it is handled, whatever was coming has come (one
        # topic, QoS 1: in order), so the dropped ones are gone, not late.
        await _publish(mosquitto, topic, 1, first=PUBLISHED)
        drained = await wait_until(lambda: PUBLISHED in handler.handled)
    assert drained, (handler.handled, _queued(cid))
    assert len(handler.handled) == 1 + BOUND + 1
    assert handler.handled == sorted(handler.handled)  # in order, with a gap where it overflowed
    assert _queued(cid) == 0
    assert _dropped(cid) == PUBLISHED - 1 - BOUND


async def test_zero_leaves_the_queue_unbounded_and_drops_nothing(mosquitto: Broker) -> None:
    settings, topic = _settings(mosquitto, 0)
    handler = BlockedHandler()
    async with consuming(settings, handler):
        cid = settings.client_id
        await _publish(mosquitto, topic, PUBLISHED)
        arrived = await wait_until(lambda: len(handler.handled) + (_queued(cid) or 0) >= PUBLISHED)
        assert arrived, (handler.handled, _queued(cid))
        assert _queued(cid) == PUBLISHED - 1
        handler.release.set()
        drained = await wait_until(lambda: len(handler.handled) >= PUBLISHED)
    assert drained
    assert handler.handled == list(range(PUBLISHED))
    assert (_dropped(cid) or 0) == 0


def test_the_queue_is_unbounded_by_default_and_the_bound_never_negative() -> None:
    # A bound loses acknowledged messages, so it is the operator's choice, never a default.
    assert MqttSettings().max_queued_messages == 0
    with pytest.raises(ValidationError):
        MqttSettings(max_queued_messages=-1)


def test_broker_options_describe_the_settings_broker(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    settings = MqttSettings(url="mqtts://estate:secret@broker.example:8884", ca_file=ca_file,
                            keepalive_s=45, client_id="estateops-gateway-1")

    options = settings.broker_options(client_id="sim")

    assert options == BrokerOptions(host="broker.example", port=8884, username="estate",
                                    password="secret", tls=True, ca_file=ca_file,
                                    keepalive_s=45, client_id="sim")
    assert settings.broker_options().client_id == "estateops-gateway-1"
    assert "secret" not in repr(options)


def test_separate_username_and_password_win_over_the_url() -> None:
    settings = MqttSettings(url="mqtt://url-user:url-pass@127.0.0.1", username="estateops",
                            password="s3cret")
    options = settings.broker_options()
    assert (options.host, options.port, options.tls) == ("127.0.0.1", 1883, False)
    assert (options.username, options.password) == ("estateops", "s3cret")
