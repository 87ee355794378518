"""Consume the estates' topics from the broker, reconnecting with capped, jittered backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable

import aiomqtt
from prometheus_client import Gauge

from estateops.settings import MqttSettings
from gateway import metrics

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, int], Awaitable[object]]
MAX_BACKOFF_S = 30.0


def mqtt_client(settings: MqttSettings, *, client_id: str | None = None,
                persistent: bool = True) -> aiomqtt.Client:
    tls_context = None
    if settings.tls:
        tls_context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None)
    # A persistent session (clean_session False): while the gateway restarts, the broker
    # keeps its QoS 1 messages for it.
    return aiomqtt.Client(
        settings.host, settings.port,
        username=settings.effective_username, password=settings.effective_password,
        identifier=client_id or settings.client_id, clean_session=not persistent,
        keepalive=settings.keepalive_s,
        tls_context=tls_context, timeout=10,
    )


async def consume(settings: MqttSettings, handle: MessageHandler,
                  connected: asyncio.Event | None = None, *, subscription: str | None = None,
                  qos: int | None = None, client_id: str | None = None, persistent: bool = True,
                  connected_gauge: Gauge = metrics.BROKER_CONNECTED) -> None:
    """Deliver every message to `handle` until cancelled; survive the broker going away.

    Defaults are the gateway's (its subscription, QoS and persistent session); the API's
    alert stream passes its own.
    """
    topic = subscription or settings.subscription
    backoff = 0.5
    while True:
        try:
            async with mqtt_client(settings, client_id=client_id, persistent=persistent) as client:
                await client.subscribe(topic, qos=settings.qos if qos is None else qos)
                log.info("subscribed to %s on %s:%s", topic, settings.host, settings.port)
                connected_gauge.set(1)
                if connected is not None:
                    connected.set()
                backoff = 0.5
                async for message in client.messages:
                    await handle(str(message.topic), payload_bytes(message.payload),
                                 time.time_ns())
        except aiomqtt.MqttError as exc:
            connected_gauge.set(0)
            if connected is not None:
                connected.clear()
            delay = backoff * random.uniform(0.5, 1.0)
            log.warning("broker connection lost (%s); reconnecting in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            backoff = min(backoff * 2, MAX_BACKOFF_S)


def payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode()


class Publisher:
    """A long-lived connection for what EstateOps itself publishes (alerts); a publish after
    the broker went away reconnects once before it gives up."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._client: aiomqtt.Client | None = None

    async def publish(self, topic: str, payload: str | bytes, qos: int = 1) -> None:
        for attempt in (1, 2):
            client = await self._connected()
            try:
                await client.publish(topic, payload, qos=qos)
                return
            except aiomqtt.MqttError:
                await self.aclose()
                if attempt == 2:
                    raise

    async def _connected(self) -> aiomqtt.Client:
        if self._client is None:
            client = mqtt_client(self._settings, client_id=self._client_id, persistent=False)
            await client.__aenter__()
            self._client = client
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(None, None, None)
