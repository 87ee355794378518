"""A bridge's one connection to the broker for the contract messages it republishes."""

from __future__ import annotations

import contextlib
import logging

import aiomqtt

from bridges.contract import ContractMessage
from connectors.mqtt import MqttSettings, mqtt_client

log = logging.getLogger(__name__)


class ContractPublisher:
    """Publishes contract messages at QoS 1 (status retained); after the broker went away a
    publish reconnects once before it gives up with the broker's error."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._client: aiomqtt.Client | None = None

    async def __call__(self, message: ContractMessage) -> None:
        for attempt in (1, 2):
            client = await self._connected()
            try:
                await client.publish(message.topic, message.payload, qos=1,
                                     retain=message.retain)
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

    async def __aenter__(self) -> ContractPublisher:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
