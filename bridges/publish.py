"""A bridge's one connection to the broker for the contract messages it republishes."""

from __future__ import annotations

from bridges.contract import ContractMessage
from connectors.mqtt import MqttSettings, Publisher


class ContractPublisher:
    """Publishes contract messages at QoS 1 (status retained) through the one reconnecting
    `connectors.mqtt.Publisher`: after the broker went away a publish reconnects once before
    it gives up with the broker's error."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self._publisher = Publisher(settings, client_id)

    async def __call__(self, message: ContractMessage) -> None:
        await self._publisher.publish(message.topic, message.payload, qos=1,
                                      retain=message.retain)

    async def aclose(self) -> None:
        await self._publisher.aclose()

    async def __aenter__(self) -> ContractPublisher:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
