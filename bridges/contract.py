"""What a bridge hands on: contract messages for registered devices."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from registry.queries import DeviceRef

Channel = Literal["telemetry", "event", "status"]


@dataclass(frozen=True, slots=True)
class ContractMessage:
    """One message per the device contract; status messages are retained."""

    topic: str
    payload: str

    @property
    def retain(self) -> bool:
        return self.topic.endswith("/status")


Publish = Callable[[ContractMessage], Awaitable[None]]


def contract_topic(device: DeviceRef, channel: Channel) -> str:
    return f"estates/{device.estate_id}/{device.device_type}/{device.device_id}/{channel}"


def telemetry(device: DeviceRef, values: Mapping[str, object]) -> ContractMessage:
    return ContractMessage(contract_topic(device, "telemetry"), json.dumps(values))


def event(device: DeviceRef, name: str, values: Mapping[str, object]) -> ContractMessage:
    return ContractMessage(contract_topic(device, "event"), json.dumps({"event": name, **values}))


def status(device: DeviceRef, online: bool) -> ContractMessage:
    return ContractMessage(contract_topic(device, "status"), "online" if online else "offline")
