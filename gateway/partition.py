"""Which devices this gateway owns, when N gateways split an estate's devices between them.

Every gateway subscribes plainly and receives every message; a device belongs to exactly one
gateway, chosen by a stable hash of "estate/device" (crc32, the same in every process and
release, unlike Python's salted `hash()`), so each device's messages and rule state are whole
in one place. A message for a device another gateway owns is recognised from its topic alone.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from prometheus_client import Counter

NOT_OWNED = Counter(
    "estateops_messages_not_owned",
    "Messages for devices another gateway's partition owns, acknowledged without decoding",
)

D = TypeVar("D", bound="OwnedDevice")
_SPEC = re.compile(r"^(\d+)/(\d+)$")
TOPIC_PARTS = 5  # estates/{estate}/{type}/{device}/{channel}


class OwnedDevice(Protocol):
    @property
    def estate_id(self) -> str: ...

    @property
    def device_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Partition:
    """Partition `index` of `count` (0-based): "0/1", the default, owns every device."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"partition {self.index}/{self.count}: need 0 <= index < count")

    @classmethod
    def parse(cls, spec: str) -> Partition:
        """"1/2" -> Partition(1, 2)."""
        match = _SPEC.match(spec.strip())
        if match is None:
            raise ValueError(f"partition {spec!r} is not index/count, e.g. 0/2")
        return cls(int(match[1]), int(match[2]))

    @property
    def whole(self) -> bool:
        return self.count == 1

    def owns(self, estate_id: str, device_id: str) -> bool:
        return self.whole or self._owns_key(f"{estate_id}/{device_id}")

    def owns_topic(self, topic_name: str) -> bool:
        """From the topic's text only (no parsing, no validation): a malformed topic is owned
        by the one partition its whole text hashes to, so exactly one gateway refuses it."""
        if self.whole:
            return True
        parts = topic_name.split("/", TOPIC_PARTS)
        if len(parts) == TOPIC_PARTS:
            return self._owns_key(f"{parts[1]}/{parts[3]}")
        return self._owns_key(topic_name)

    def client_id(self, base: str) -> str:
        """This partition's MQTT client id: its own persistent session, `base` suffixed with
        its index (the whole estate keeps `base`)."""
        return base if self.whole else f"{base}-{self.index}"

    def owned(self, devices: Iterable[D]) -> Iterator[D]:
        return (device for device in devices if self.owns(device.estate_id, device.device_id))

    def _owns_key(self, key: str) -> bool:
        return zlib.crc32(key.encode()) % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Partition()
