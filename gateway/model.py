"""Value objects that flow through the gateway: a parsed topic and a storable point."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TOPIC_ROOT = "estates"

FieldValue = bool | int | float | str


class Channel(StrEnum):
    TELEMETRY = "telemetry"
    EVENT = "event"
    STATUS = "status"


class TopicError(ValueError):
    """A topic that is not estates/{estate}/{type}/{device}/{channel}."""


@dataclass(frozen=True, slots=True)
class Topic:
    estate_id: str
    device_type: str
    device_id: str
    channel: Channel

    @classmethod
    def parse(cls, topic: str) -> Topic:
        parts = topic.split("/")
        if len(parts) != 5 or parts[0] != TOPIC_ROOT:
            raise TopicError(f"expected {TOPIC_ROOT}/{{estate}}/{{type}}/{{device}}/{{channel}}")
        _, estate_id, device_type, device_id, channel = parts
        for name, value in (("estate_id", estate_id), ("device_type", device_type),
                            ("device_id", device_id)):
            if not SLUG.match(value):
                raise TopicError(f"{name} {value!r} is not a slug")
        try:
            parsed_channel = Channel(channel)
        except ValueError:
            raise TopicError(f"unknown channel {channel!r}") from None
        return cls(estate_id, device_type, device_id, parsed_channel)

    def __str__(self) -> str:
        return f"{TOPIC_ROOT}/{self.estate_id}/{self.device_type}/{self.device_id}/{self.channel}"


@dataclass(frozen=True, slots=True)
class Point:
    """One InfluxDB point: measurement, tags, fields and a nanosecond timestamp."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int


@dataclass(frozen=True, slots=True)
class Reading:
    """A validated device message, ready to store and to update last state."""

    topic: Topic
    time_ns: int
    received_ns: int
    seq: int | None
    values: Mapping[str, FieldValue | None]
    event: str | None = None
    extras: Mapping[str, FieldValue] = field(default_factory=dict)
