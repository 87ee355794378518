"""Consume the estates' topics from the broker, reconnecting with capped, jittered backoff."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable

import aiomqtt

from estateops.settings import MqttSettings
from gateway import metrics

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, int], Awaitable[object]]
MAX_BACKOFF_S = 30.0


def _client(settings: MqttSettings) -> aiomqtt.Client:
    tls_context = None
    if settings.tls:
        tls_context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None)
    # A persistent session (clean_session False): while the gateway restarts, the broker
    # keeps its QoS 1 messages for it.
    return aiomqtt.Client(
        settings.host, settings.port,
        username=settings.effective_username, password=settings.effective_password,
        identifier=settings.client_id, clean_session=False, keepalive=settings.keepalive_s,
        tls_context=tls_context, timeout=10,
    )


async def consume(settings: MqttSettings, handle: MessageHandler,
                  connected: asyncio.Event | None = None) -> None:
    """Deliver every message to `handle` until cancelled; survive the broker going away."""
    backoff = 0.5
    while True:
        try:
            async with _client(settings) as client:
                await client.subscribe(settings.subscription, qos=settings.qos)
                log.info("subscribed to %s on %s:%s", settings.subscription, settings.host,
                         settings.port)
                metrics.BROKER_CONNECTED.set(1)
                if connected is not None:
                    connected.set()
                backoff = 0.5
                async for message in client.messages:
                    await handle(str(message.topic), _payload_bytes(message.payload),
                                 time.time_ns())
        except aiomqtt.MqttError as exc:
            metrics.BROKER_CONNECTED.set(0)
            if connected is not None:
                connected.clear()
            delay = backoff * random.uniform(0.5, 1.0)
            log.warning("broker connection lost (%s); reconnecting in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            backoff = min(backoff * 2, MAX_BACKOFF_S)


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode()
