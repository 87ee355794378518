"""Helpers for simulator tests: the test broker as options, a contract checker built from the
device profiles, and an MQTT recorder that subscribes before the simulator publishes."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from connectors.mqtt import BrokerOptions, MqttSettings
from device_profiles import DeviceProfile, FieldSpec, FieldType, ProfileSet
from tests.fixtures.mosquitto import Broker

MAX_PAYLOAD = 64 * 1024
FUTURE_LIMIT_S = 24 * 3600


def sim_broker(broker: Broker) -> BrokerOptions:
    """The test broker as the simulator connects to it: built from the settings, as the CLI
    and the demo build it."""
    return MqttSettings(url=broker.url).broker_options(client_id="sim")


def _no_constants(name: str) -> float:
    raise ValueError(f"non-finite number {name}")


def parse_payload(payload: bytes) -> Any:
    """JSON as the contract reads it: NaN and Infinity are not numbers."""
    return json.loads(payload, parse_constant=_no_constants)


def _type_error(name: str, spec: FieldSpec, value: object) -> str | None:
    if value is None:
        return None if spec.nullable else f"{name} is null"
    ok = {
        FieldType.BOOL: isinstance(value, bool),
        FieldType.INT: isinstance(value, int) and not isinstance(value, bool),
        FieldType.FLOAT: isinstance(value, int | float) and not isinstance(value, bool)
        and math.isfinite(value),
        FieldType.STRING: isinstance(value, str) and len(value) <= spec.max_length,
        FieldType.ENUM: isinstance(value, str) and value in (spec.values or ()),
    }[spec.type]
    return None if ok else f"{name}={value!r} is not a valid {spec.type}"


def _ts_error(ts: object, now: float) -> str | None:
    if isinstance(ts, int) and not isinstance(ts, bool):
        seconds = ts / 1000
    elif isinstance(ts, str):
        parsed = datetime.fromisoformat(ts)
        if parsed.tzinfo is None:
            return f"ts {ts!r} has no offset"
        seconds = parsed.timestamp()
    else:
        return f"ts {ts!r} is neither epoch ms nor RFC 3339"
    return "ts is more than 24 h in the future" if seconds > now + FUTURE_LIMIT_S else None


def contract_errors(profiles: ProfileSet, topic: str, payload: bytes) -> list[str]:
    """Why the contract would reject this telemetry/event message (empty: accepted)."""
    parts = topic.split("/")
    profile = profiles.get(parts[2]) if len(parts) == 5 else None
    if profile is None or parts[0] != "estates" or parts[4] not in ("telemetry", "event"):
        return [f"unexpected topic {topic}"]
    if len(payload) > MAX_PAYLOAD:
        return ["payload larger than 64 KiB"]
    try:
        body = parse_payload(payload)
    except ValueError as exc:
        return [f"not JSON: {exc}"]
    if not isinstance(body, dict):
        return ["not a JSON object"]
    errors: list[str] = []
    if "ts" in body and (ts_error := _ts_error(body["ts"], time.time())):
        errors.append(ts_error)
    if "seq" in body and not (isinstance(body["seq"], int) and not isinstance(body["seq"], bool)):
        errors.append("seq is not an integer")
    fields = _fields_for(profile, parts[4], body, errors)
    for name, value in body.items():
        spec = fields.get(name)
        if spec is not None and (error := _type_error(name, spec, value)):
            errors.append(error)
    return errors


def _fields_for(profile: DeviceProfile, channel: str, body: dict[str, Any],
                errors: list[str]) -> dict[str, FieldSpec]:
    if channel == "event":
        event = body.get("event")
        if event not in profile.events:
            errors.append(f"unknown event {event!r}")
            return {}
        return dict(profile.events[str(event)])
    fields: dict[str, FieldSpec] = {}
    for name, spec in profile.telemetry.items():
        for alias in (name, *spec.synonyms):
            fields[alias] = spec
        if spec.required and not any(a in body for a in (name, *spec.synonyms)):
            errors.append(f"required field {name} is missing")
    return fields


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool


class Recorder:
    """Subscribes to a topic filter and keeps everything that arrives."""

    def __init__(self, host: str, port: int, topic: str, client_id: str = "") -> None:
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect(host, port)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise TimeoutError(f"no SUBACK for {topic}")

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        received = Received(message.topic, bytes(message.payload), bool(message.retain))
        with self._lock:
            self.messages.append(received)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, done: Callable[[list[Received]], bool], timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done(self.snapshot()):
                return True
            time.sleep(0.05)
        return done(self.snapshot())

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def retained(host: str, port: int, topic: str, expected: int,
             timeout: float = 10.0) -> list[Received]:
    """The retained messages on `topic` (a filter), as a fresh subscriber sees them."""
    recorder = Recorder(host, port, topic)
    try:
        recorder.wait_for(lambda got: len(got) >= expected, timeout)
        return [m for m in recorder.snapshot() if m.retain]
    finally:
        recorder.close()


def data_messages(received: list[Received]) -> list[Received]:
    return [m for m in received if m.topic.rsplit("/", 1)[-1] in ("telemetry", "event")]
