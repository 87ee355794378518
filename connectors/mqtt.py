"""The MQTT connection: settings, one client constructor, a reconnecting consumer (capped,
jittered backoff) and a publisher, shared by the gateway and the API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import aiomqtt
from prometheus_client import Gauge
from pydantic import BaseModel, Field, SecretStr, field_validator

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, int], Awaitable[object]]
MAX_BACKOFF_S = 30.0


class MqttSettings(BaseModel):
    url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="mqtt://host:port or mqtts://host:port (TLS); user:password@ allowed",
    )
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = Field(default=None, description="CA bundle for mqtts://")
    client_id: str = "estateops-gateway"
    qos: Annotated[int, Field(ge=0, le=1)] = 1
    shared_group: str | None = Field(
        default=None, description="MQTT 5 shared-subscription group for several gateways"
    )
    topic: str = "estates/+/+/+/+"
    keepalive_s: int = 30

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError("MQTT URL must start with mqtt:// or mqtts://")
        return url

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme in ("mqtts", "ssl")

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)

    @property
    def effective_username(self) -> str | None:
        return self.username or urlsplit(self.url).username

    @property
    def effective_password(self) -> str | None:
        if self.password is not None:
            return self.password.get_secret_value()
        return urlsplit(self.url).password

    @property
    def subscription(self) -> str:
        if self.shared_group:
            return f"$share/{self.shared_group}/{self.topic}"
        return self.topic


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
                  connected_gauge: Gauge | None = None) -> None:
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
                if connected_gauge is not None:
                    connected_gauge.set(1)
                if connected is not None:
                    connected.set()
                backoff = 0.5
                async for message in client.messages:
                    await handle(str(message.topic), payload_bytes(message.payload),
                                 time.time_ns())
        except aiomqtt.MqttError as exc:
            if connected_gauge is not None:
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
