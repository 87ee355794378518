"""Bridge mode: a few connections publish for many devices (for load beyond one socket each).

With no connection per device there is no per-device Last Will: a lost device is announced
by an explicit retained "offline" on its status topic instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import paho.mqtt.client as mqtt

from connectors.mqtt import BrokerOptions
from simulators.fleet import SimDevice
from simulators.transport import PahoConnections


class BridgeConnections(PahoConnections):
    """A few connections publishing for many devices; no per-device Last Will."""

    def __init__(self, options: BrokerOptions, connections: int = 4) -> None:
        super().__init__(options)
        self._count = max(1, connections)

    def open(self, devices: Sequence[SimDevice]) -> None:
        prefix = self.options.client_id
        estate = devices[0].estate_id if devices else "none"
        clients = [self._client(f"{prefix}-bridge-{estate}-{n}", will_topic=None)
                   for n in range(min(self._count, max(1, len(devices))))]
        for client in clients:
            # Unlimited in paho (whose window bookkeeping is linear in its size); the
            # simulation loop bounds unacknowledged messages itself.
            client.max_inflight_messages_set(0)
        self._carried: dict[mqtt.Client, list[SimDevice]] = {c: [] for c in clients}
        self._client_of: dict[str, mqtt.Client] = {}
        self._down: set[str] = set()
        for index, device in enumerate(devices):
            client = clients[index % len(clients)]
            self._carried[client].append(device)
            self._client_of[device.id] = client
        self._connect_all(clients)

    def announce(self, client: mqtt.Client) -> None:
        for device in self._carried[client]:
            if device.id not in self._down:
                self._publish(client, device.topic("status"), "online", retain=True)

    def online(self, device_id: str) -> bool:
        return device_id not in self._down and self._client_of[device_id] in self._connected

    def publish(self, device_id: str, topic: str, payload: bytes) -> bool:
        return self._publish(self._client_of[device_id], topic, payload)

    def _status(self, device_id: str, status: str) -> None:
        client = self._client_of[device_id]
        topic = next(d for d in self._carried[client] if d.id == device_id).topic("status")
        self._publish(client, topic, status, retain=True)

    def drop(self, device_id: str) -> None:
        self._down.add(device_id)
        self._status(device_id, "offline")

    def restore(self, device_id: str) -> None:
        self._down.discard(device_id)
        self._status(device_id, "online")

    def close(self, timeout_s: float = 10.0) -> None:
        self._closing = True
        for client in list(self._connected):
            for device in self._carried[client]:
                self._publish(client, device.topic("status"), "offline", retain=True)
        self.drain(timeout_s)
        self._disconnect_all(timeout_s)
