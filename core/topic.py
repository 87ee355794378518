"""The topic every device publishes to: estates/{estate}/{type}/{device}/{channel}."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum

from core.slug import SLUG

TOPIC_ROOT = "estates"


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
            if not SLUG.fullmatch(value):  # match() lets a trailing newline through
                raise TopicError(f"{name} {value!r} is not a slug")
        try:
            parsed_channel = Channel(channel)
        except ValueError:
            raise TopicError(f"unknown channel {channel!r}") from None
        # Estate and type are shared by thousands of devices: one string each in a cache of
        # parsed topics, not a copy per device.
        return cls(sys.intern(estate_id), sys.intern(device_type), device_id, parsed_channel)

    def __str__(self) -> str:
        return f"{TOPIC_ROOT}/{self.estate_id}/{self.device_type}/{self.device_id}/{self.channel}"
