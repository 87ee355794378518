"""MQTT connections for the simulated devices, all driven from one thread.

`ClientLoop` runs many paho clients with one selector (paho's external-loop callbacks keep
each socket's read/write interest up to date). `DeviceConnections` gives every device its
own connection and Last Will; see `simulators.bridge` for bridge mode. The broker and how
to reach it are `connectors.mqtt.BrokerOptions` (built from the settings by the CLI).
"""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from connectors.mqtt import BrokerOptions
from simulators.fleet import SimDevice

READ_WRITE = selectors.EVENT_READ | selectors.EVENT_WRITE
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 30.0
CONNECT_BATCH = 64


class SimulatorConnectionError(ConnectionError):
    """The broker could not be reached, or refused the simulator's connections."""


class ClientLoop:
    """One selector over the sockets of many paho clients."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self.clients: list[mqtt.Client] = []

    def attach(self, client: mqtt.Client) -> None:
        client.on_socket_open = self._opened
        client.on_socket_close = self._closed
        client.on_socket_register_write = self._want_write
        client.on_socket_unregister_write = self._wrote
        self.clients.append(client)

    def _opened(self, client: mqtt.Client, _: Any, sock: Any) -> None:
        self._selector.register(sock, selectors.EVENT_READ, client)

    def _closed(self, _client: mqtt.Client, _: Any, sock: Any) -> None:
        with suppress(KeyError, ValueError):
            self._selector.unregister(sock)

    def _want_write(self, client: mqtt.Client, _: Any, sock: Any) -> None:
        with suppress(KeyError, ValueError):
            self._selector.modify(sock, READ_WRITE, client)

    def _wrote(self, client: mqtt.Client, _: Any, sock: Any) -> None:
        with suppress(KeyError, ValueError):
            self._selector.modify(sock, selectors.EVENT_READ, client)

    @property
    def open_sockets(self) -> int:
        return len(self._selector.get_map())

    def poll(self, timeout: float) -> None:
        if not self._selector.get_map():
            time.sleep(max(0.0, timeout))
            return
        for key, mask in self._selector.select(max(0.0, timeout)):
            client: mqtt.Client = key.data
            if mask & selectors.EVENT_READ:
                client.loop_read()
                # TLS may hold decrypted bytes the selector cannot see.
                while (sock := client.socket()) is not None and getattr(sock, "pending", int)():
                    client.loop_read()
            if mask & selectors.EVENT_WRITE and client.socket() is not None:
                client.loop_write()

    def misc(self) -> None:
        for client in self.clients:
            client.loop_misc()

    def close(self) -> None:
        self._selector.close()


class PahoConnections:
    """Shared plumbing: client creation, acknowledgements, reconnects, clean shutdown."""

    def __init__(self, options: BrokerOptions) -> None:
        self.options = options
        self.loop = ClientLoop()
        self.sent = 0
        self.acked = 0
        self.errors: list[str] = []
        self._connected: set[mqtt.Client] = set()
        self._held: set[mqtt.Client] = set()
        self._retry_at: dict[mqtt.Client, float] = {}
        self._closing = False
        self._ids: dict[mqtt.Client, str] = {}

    @property
    def unacked(self) -> int:
        return self.sent - self.acked

    @property
    def connections(self) -> int:
        return len(self.loop.clients)

    def _client(self, client_id: str, will_topic: str | None) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._ids[client] = client_id
        if self.options.username is not None:
            client.username_pw_set(self.options.username, self.options.password)
        if self.options.tls:
            client.tls_set(ca_certs=str(self.options.ca_file) if self.options.ca_file else None)
        if will_topic is not None:
            client.will_set(will_topic, "offline", qos=self.options.qos, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self.loop.attach(client)
        return client

    def _connect(self, client: mqtt.Client) -> None:
        try:
            client.connect(self.options.host, self.options.port, self.options.keepalive_s)
        except OSError as exc:
            where = f"{self.options.host}:{self.options.port}"
            message = f"cannot reach the MQTT broker at {where}: {exc}"
            raise SimulatorConnectionError(message) from exc

    def _connect_all(self, clients: Sequence[mqtt.Client]) -> None:
        for index, client in enumerate(clients):
            self._connect(client)
            if index % CONNECT_BATCH == CONNECT_BATCH - 1:
                self.loop.poll(0)
        deadline = time.monotonic() + self.options.connect_timeout_s
        while len(self._connected) < len(clients) and time.monotonic() < deadline:
            self.loop.poll(0.05)
        missing = len(clients) - len(self._connected)
        if missing:
            detail = f"; first error: {self.errors[0]}" if self.errors else ""
            message = f"{missing} of {len(clients)} connections failed{detail}"
            raise SimulatorConnectionError(message)

    def _on_connect(self, client: mqtt.Client, _: Any, _flags: Any, reason: ReasonCode,
                    _props: Any) -> None:
        if reason.is_failure:
            self.errors.append(f"{self._ids[client]}: {reason}")
            return
        self._connected.add(client)
        self._retry_at.pop(client, None)
        self.announce(client)

    def announce(self, client: mqtt.Client) -> None:
        """Publish the retained "online" status of the devices this client carries."""

    def _on_disconnect(self, client: mqtt.Client, _: Any, _flags: Any, _reason: ReasonCode,
                       _props: Any) -> None:
        self._connected.discard(client)
        if not self._closing and client not in self._held:
            self._retry_at[client] = time.monotonic() + RECONNECT_MIN_S

    def _on_publish(self, _client: mqtt.Client, _: Any, _mid: int, _reason: ReasonCode,
                    _props: Any) -> None:
        self.acked += 1

    def _publish(self, client: mqtt.Client, topic: str, payload: bytes | str, *,
                 retain: bool = False) -> bool:
        info = client.publish(topic, payload, qos=self.options.qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        self.sent += 1
        return True

    def poll(self, timeout: float) -> None:
        self.loop.poll(timeout)

    def misc(self) -> None:
        self.loop.misc()
        now = time.monotonic()
        for client, due in list(self._retry_at.items()):
            if due <= now:
                self._retry(client, now)

    def _retry(self, client: mqtt.Client, now: float) -> None:
        try:
            client.reconnect()
            del self._retry_at[client]
        except OSError as exc:
            self.errors.append(f"reconnect {self._ids[client]}: {exc}")
            self._retry_at[client] = now + RECONNECT_MAX_S

    def drain(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.unacked > 0 and self._connected and time.monotonic() < deadline:
            self.loop.poll(0.05)

    def _disconnect_all(self, timeout_s: float) -> None:
        self._closing = True
        for client in self.loop.clients:
            if client.socket() is not None:
                client.disconnect()
        deadline = time.monotonic() + timeout_s
        while self.loop.open_sockets and time.monotonic() < deadline:
            self.loop.poll(0.05)
        self.loop.close()


class DeviceConnections(PahoConnections):
    """A connection per device, each with the retained "offline" Last Will of its status."""

    def open(self, devices: Sequence[SimDevice]) -> None:
        self._device: dict[mqtt.Client, SimDevice] = {}
        self._client_of: dict[str, mqtt.Client] = {}
        for device in devices:
            client_id = f"{self.options.client_id}-{device.estate_id}-{device.id}"
            client = self._client(client_id, will_topic=device.topic("status"))
            self._device[client] = device
            self._client_of[device.id] = client
        self._connect_all(list(self._device))

    def announce(self, client: mqtt.Client) -> None:
        self._publish(client, self._device[client].topic("status"), "online", retain=True)

    def online(self, device_id: str) -> bool:
        return self._client_of[device_id] in self._connected

    def publish(self, device_id: str, topic: str, payload: bytes) -> bool:
        return self._publish(self._client_of[device_id], topic, payload)

    def drop(self, device_id: str) -> None:
        """Lose the connection without a DISCONNECT, so the broker sends the Will."""
        client = self._client_of[device_id]
        self._held.add(client)
        sock = client.socket()
        if isinstance(sock, socket.socket):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def restore(self, device_id: str) -> None:
        client = self._client_of[device_id]
        self._held.discard(client)
        self._retry_at[client] = time.monotonic()

    def close(self, timeout_s: float = 10.0) -> None:
        """Say "offline" (retained) for each device, then disconnect cleanly."""
        self._closing = True
        for client in list(self._connected):
            self._publish(client, self._device[client].topic("status"), "offline", retain=True)
        self.drain(timeout_s)
        self._disconnect_all(timeout_s)
