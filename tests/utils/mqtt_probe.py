"""A blocking MQTT 5 client for broker-access tests: what CONNACK, PUBACK and SUBACK say,
and what arrives. paho's network loop runs in its own thread."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

TIMEOUT_S = 10.0


@dataclass
class Probe:
    client: mqtt.Client
    connected: threading.Event = field(default_factory=threading.Event)
    connack: ReasonCode | None = None
    disconnects: list[str] = field(default_factory=list)
    received: list[str] = field(default_factory=list)
    acks: dict[int, threading.Event] = field(default_factory=dict)
    ack_codes: dict[int, int] = field(default_factory=dict)

    def publish(self, topic: str, payload: bytes = b"{}") -> int:
        """Publish at QoS 1; the PUBACK's reason code (0: accepted, 135: not authorised)."""
        done = threading.Event()
        info = self.client.publish(topic, payload, qos=1)
        self.acks[info.mid] = done
        if info.mid in self.ack_codes:
            done.set()
        assert done.wait(TIMEOUT_S), f"no PUBACK for {topic}"
        return self.ack_codes[info.mid]

    def subscribe(self, topic: str) -> None:
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.subscribe(topic, qos=1)
        assert subscribed.wait(TIMEOUT_S), f"no SUBACK for {topic}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _wire(probe: Probe) -> None:
    def on_connect(_c: Any, _u: Any, _f: Any, code: ReasonCode, _p: Any) -> None:
        probe.connack = code
        probe.connected.set()

    def on_publish(_c: Any, _u: Any, mid: int, code: ReasonCode, _p: Any) -> None:
        probe.ack_codes[mid] = code.value
        if mid in probe.acks:
            probe.acks[mid].set()

    def on_disconnect(_c: Any, _u: Any, _f: Any, code: ReasonCode, _p: Any) -> None:
        probe.disconnects.append(str(code))

    probe.client.on_connect, probe.client.on_publish = on_connect, on_publish
    probe.client.on_disconnect = on_disconnect
    probe.client.on_message = lambda _c, _u, message: probe.received.append(message.topic)


def connect(port: int, username: str, password: str, *, client_id: str = "",
            ca_file: Path | None = None, persistent: bool = False) -> Probe:
    """A connection attempt; `probe.connack` says whether the broker took it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    if ca_file is not None:
        client.tls_set_context(ssl.create_default_context(cafile=str(ca_file)))
    probe = Probe(client)
    _wire(probe)
    properties = Properties(2)  # CONNECT
    properties.SessionExpiryInterval = 3600 if persistent else 0
    client.connect_async("localhost" if ca_file else "127.0.0.1", port,
                         clean_start=not persistent, properties=properties)
    client.loop_start()
    assert probe.connected.wait(TIMEOUT_S), f"no CONNACK for {username}"
    if probe.connack is not None and probe.connack.is_failure:
        client.loop_stop()
    return probe
