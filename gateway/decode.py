"""Decode one MQTT message into a Reading or a StatusChange, enforcing the wire contract.

Order of checks (the first failure is the reason): size, status channel, profile,
UTF-8, JSON object, `ts`, `seq`, `event`, the profile's fields.

Undeclared extra fields are stored as strings, whatever their JSON type: InfluxDB fixes a
field's type per measurement by the first point written, so a typed extra would let the
first device that sends it decide the type for every other device of that measurement.
A profile that declares the field gives it its own type.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from core.telemetry import FieldValue, Point
from core.topic import Channel, Topic, TopicError
from device_profiles.schema import DeviceProfile
from gateway.model import Reading
from gateway.timestamps import DEFAULT_WINDOW, TsWindow, parse_ts
from gateway.validation import (
    INT64_MAX,
    PayloadModel,
    Rejected,
    RejectReason,
    models_for,
    preview,
)

__all__ = [
    "MAX_EXTRAS",
    "MAX_PAYLOAD_BYTES",
    "RejectReason",
    "Rejected",
    "StatusChange",
    "TsWindow",
    "decode_message",
    "parse_topic",
    "reading_to_points",
]

MAX_PAYLOAD_BYTES = 65536
MAX_EXTRA_STRING_CHARS = 64
MAX_EXTRAS = 32
_MAX_EXTRA_INT_BITS = 200  # str() of a huge int is slow; 60 digits is past any counter
# Extras become InfluxDB field keys: plain names only, never one of our tag keys or "time".
_EXTRA_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_NOT_EXTRA_NAMES = frozenset({"time", "estate", "device", "event", "occurred"})
_STATUS_BY_TEXT = {"online": True, "offline": False}
_LONG_NUMBER = re.compile(rb"\d{19}")


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A device said it is online or offline (its retained status or its Last Will)."""

    topic: Topic
    online: bool
    received_ns: int


class _NonFiniteConstant(Exception):
    pass


def _refuse_constant(name: str) -> float:
    raise _NonFiniteConstant(name)


def parse_topic(raw: str) -> Topic:
    """Topic.parse, with a bad topic reported as Rejected(bad_topic)."""
    try:
        return Topic.parse(raw)
    except TopicError as exc:
        raise Rejected(RejectReason.bad_topic, f"topic {preview(raw)}: {exc}") from None


def decode_message(topic: Topic, payload: bytes, profile: DeviceProfile | None, *,
                   received_ns: int, window: TsWindow = DEFAULT_WINDOW) -> Reading | StatusChange:
    """Validate one message; raises Rejected (and nothing else) for any bad input."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejected(RejectReason.too_large,
                       f"payload: {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    if topic.channel is Channel.STATUS:
        return StatusChange(topic, _parse_status(payload), received_ns)
    if profile is None:
        raise Rejected(RejectReason.unknown_device_type,
                       f"device_type {topic.device_type!r}: no device profile")
    data = _fast_object(payload)
    if data is None:
        data = _load_object(_utf8(payload))
    time_ns = parse_ts(data.pop("ts", None), received_ns, window)
    seq = _parse_seq(data.pop("seq", None))
    event_name = data.pop("event", None)
    models = models_for(profile)
    event: str | None = None
    payload_model = models.telemetry
    if topic.channel is Channel.EVENT:
        event = _event_name(event_name, models.events, profile)
        payload_model = models.events[event]
    values, unknown = payload_model.validate(data)
    return Reading(topic=topic, time_ns=time_ns, received_ns=received_ns, seq=seq,
                   values=values, event=event, extras=_keep_extras(unknown))


def _parse_status(payload: bytes) -> bool:
    text = payload.decode("utf-8", errors="replace").strip()
    if text[:1] in ('"', "{"):
        try:
            parsed: Any = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict):  # Zigbee2MQTT's {"state": "online"}
            parsed = parsed.get("state")
        text = parsed.strip() if isinstance(parsed, str) else ""
    online = _STATUS_BY_TEXT.get(text)
    if online is None:
        raise Rejected(RejectReason.bad_status,
                       f"status: expected 'online' or 'offline', got {preview(payload)}")
    return online


def _utf8(payload: bytes) -> str:
    # JSON on the wire is UTF-8 (RFC 8259); json.loads(bytes) would also guess UTF-16/32.
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = payload[exc.start:exc.start + 4]
        raise Rejected(RejectReason.not_utf8,
                       f"payload: not UTF-8 (byte {exc.start}: {preview(bad)})") from None


def _fast_object(payload: bytes) -> dict[str, Any] | None:
    """The payload's JSON object by orjson when that is sure to be what `_load_object`
    returns; None for everything else (invalid, not an object, NaN, lone surrogates, and
    numbers of 19 digits or more, which orjson would turn into floats), which then takes
    the standard library's path and gets its exact rejection."""
    if _LONG_NUMBER.search(payload) is not None:
        return None
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _load_object(payload: str) -> dict[str, Any]:
    try:
        data = json.loads(payload, parse_constant=_refuse_constant)
    except _NonFiniteConstant as exc:
        raise Rejected(RejectReason.non_finite,
                       f"{_non_finite_location(payload)}: {exc} is not a finite number") from None
    except RecursionError:
        raise Rejected(RejectReason.too_deep, "payload: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and integers over Python's 4 300 digits
        raise Rejected(RejectReason.not_json_object,
                       f"payload: not valid JSON ({preview(str(exc))})") from None
    if not isinstance(data, dict):
        raise Rejected(RejectReason.not_json_object,
                       f"payload: expected a JSON object, got {type(data).__name__}")
    return data


class _Marker:
    pass


def _non_finite_location(payload: str) -> str:
    """The top-level key holding NaN/Infinity, or "payload" when the rest of it is not JSON
    (only called on the reject path)."""
    try:
        return _marked_key(payload)
    except (ValueError, RecursionError):
        return "payload"


def _marked_key(payload: str) -> str:
    marker = _Marker()
    data = json.loads(payload, parse_constant=lambda _: marker)

    def holds(value: object) -> bool:
        if value is marker:
            return True
        if isinstance(value, dict):
            return any(holds(item) for item in value.values())
        return isinstance(value, list) and any(holds(item) for item in value)

    if isinstance(data, dict):
        return next((str(key) for key, value in data.items() if holds(value)), "payload")
    return "payload"


def _parse_seq(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Rejected(RejectReason.wrong_type, f"seq: expected an integer, got {preview(value)}")
    if not 0 <= value <= INT64_MAX:
        # Stored as a SQL BIGINT (last_seq): out of its range it would fail the state flush.
        raise Rejected(RejectReason.out_of_range,
                       f"seq: {preview(value)} is outside 0 … 2**63-1")
    return value


def _event_name(value: object, events: Mapping[str, PayloadModel],
                profile: DeviceProfile) -> str:
    if value is None:
        raise Rejected(RejectReason.missing_field, "event: required field is missing")
    if not isinstance(value, str):
        raise Rejected(RejectReason.wrong_type, f"event: expected a string, got {preview(value)}")
    if value not in events:
        known = ", ".join(sorted(events)) or "none"
        raise Rejected(RejectReason.unknown_event,
                       f"event: {preview(value)} is not an event of {profile.device_type} "
                       f"(known: {known})")
    return value


def _encodable(text: str) -> bool:
    # json.loads lets lone surrogates ("\ud800") through; they cannot be written as UTF-8
    # (pydantic rejects them in profile fields; this is for extras).
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _extra_text(value: object) -> str | None:
    """An unknown field's value as the string it is stored as, or None to drop it."""
    text: str | None = None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value) if value.bit_length() <= _MAX_EXTRA_INT_BITS else None
    elif isinstance(value, float):
        text = json.dumps(value) if math.isfinite(value) else None
    elif isinstance(value, str) and _encodable(value):
        text = value
    return text if text is not None and len(text) <= MAX_EXTRA_STRING_CHARS else None


def _keep_extras(unknown: dict[str, Any]) -> dict[str, str]:
    extras: dict[str, str] = {}
    for name, raw in unknown.items():
        if len(extras) == MAX_EXTRAS:
            break
        value = _extra_text(raw)
        if value is not None and name not in _NOT_EXTRA_NAMES and _EXTRA_NAME.fullmatch(name):
            extras[name] = value
    return extras


def _tag_text(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


NS_PER_MS = 1_000_000


def reading_to_points(reading: Reading, profile: DeviceProfile) -> list[Point]:
    """The InfluxDB points for a reading in the telemetry/event measurement: its declared
    fields, and its undeclared extras as a second point of the same series and time.

    InfluxDB merges the two into one row. Apart, a store that refuses the extras (a field
    written with another type before extras were strings) refuses only them: the writer
    isolates the bad point, and the declared values, a leak among them, are stored.
    """
    models = models_for(profile)
    tags = {"estate": reading.topic.estate_id, "device": reading.topic.device_id}
    if reading.event is None:
        measurement, tag_fields = profile.measurement, models.telemetry.tag_fields
    else:
        measurement = profile.events_measurement
        tag_fields = models.events[reading.event].tag_fields
        tags["event"] = reading.event
    fields: dict[str, FieldValue] = {}
    for name, value in reading.values.items():
        if value is None:
            continue
        if name in tag_fields:
            tags[name] = _tag_text(value)
        else:
            fields[name] = value
    if reading.event is not None:
        fields["occurred"] = True
    time_ns = storage_time_ns(reading)
    points = [Point(measurement, tags, fields, time_ns)] if fields else []
    if reading.extras:
        points.append(Point(measurement, tags, dict(reading.extras), time_ns))
    return points


def storage_time_ns(reading: Reading) -> int:
    """The device's time, with a millisecond-precise one given sub-millisecond digits from seq.

    InfluxDB keeps one point per series and instant, so two messages of a device in the
    same millisecond (two cars through one lane) would overwrite each other. The seq makes
    them distinct while a redelivery (same seq) still lands on, and overwrites, itself.
    """
    if reading.seq is None or reading.time_ns % NS_PER_MS:
        return reading.time_ns
    return reading.time_ns + reading.seq % NS_PER_MS

