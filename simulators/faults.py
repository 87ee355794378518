"""Scripted faults as data: which device, when (simulated seconds after start), how long.

A fault either changes what its device reports (leak, overheating, a stuck gate, a dead
lamp, a flapping sensor), cuts its connection (so the broker publishes its Last Will), or
replaces its report with a malformed message of a named kind. Every fault affects at
least the report its device makes as the fault starts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum

from device_profiles import DeviceProfile, FieldType
from registry.schema import DeviceIn, EstateFile
from simulators.behaviour import Body, JsonScalar, Message

MAX_PAYLOAD_BYTES = 64 * 1024
FUTURE_S = 2 * 86_400
CONTRACT_TYPES = ("leak_sensor", "voice_light", "ev_charger", "barrier_gate")


class FaultKind(StrEnum):
    LEAK = "leak"
    FLAPPING_LEAK = "flapping_leak"
    CHARGER_OVERHEAT = "charger_overheat"
    GATE_STUCK_OPEN = "gate_stuck_open"
    DEAD_LAMP = "dead_lamp"
    CONNECTION_LOST = "connection_lost"
    MALFORMED = "malformed"


class MalformedKind(StrEnum):
    NOT_JSON = "not_json"
    JSON_ARRAY = "json_array"
    WRONG_TYPE = "wrong_type"
    NAN = "nan"
    FUTURE_TS = "future_ts"
    OVERSIZE = "oversize"
    UNKNOWN_DEVICE = "unknown_device"
    TYPE_MISMATCH = "type_mismatch"


TARGET_TYPE = {
    FaultKind.LEAK: "leak_sensor",
    FaultKind.FLAPPING_LEAK: "leak_sensor",
    FaultKind.CHARGER_OVERHEAT: "ev_charger",
    FaultKind.GATE_STUCK_OPEN: "barrier_gate",
    FaultKind.DEAD_LAMP: "voice_light",
}


class FaultPlanError(ValueError):
    """A fault names a device that is not simulated, or one of the wrong type."""


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    device_id: str
    start_s: float
    duration_s: float
    malformed: MalformedKind | None = None
    report_every_s: float | None = None
    """While the fault lasts, the device reports at least this often (simulated seconds)."""

    def __post_init__(self) -> None:
        if self.start_s < 0 or self.duration_s < 0:
            raise ValueError("a fault's start and duration must not be negative")
        if (self.kind is FaultKind.MALFORMED) != (self.malformed is not None):
            raise ValueError("a malformed fault, and only that, names its malformed kind")

    @property
    def label(self) -> str:
        kind = f"malformed_{self.malformed}" if self.malformed else str(self.kind)
        return f"{kind}:{self.device_id}"


@dataclass(frozen=True, slots=True)
class FaultPlan:
    faults: tuple[Fault, ...] = ()

    @classmethod
    def none(cls) -> FaultPlan:
        return cls()

    @property
    def device_ids(self) -> set[str]:
        return {f.device_id for f in self.faults}

    def for_device(self, device_id: str) -> list[Fault]:
        return [f for f in self.faults if f.device_id == device_id]

    def check(self, devices: Iterable[DeviceIn]) -> None:
        by_id = {d.id: d for d in devices}
        for fault in self.faults:
            device = by_id.get(fault.device_id)
            if device is None:
                raise FaultPlanError(f"fault {fault.label}: device is not simulated")
            wanted = TARGET_TYPE.get(fault.kind)
            if wanted is not None and device.type != wanted:
                raise FaultPlanError(f"fault {fault.label}: needs a {wanted}, not {device.type}")


def _devices(estate: EstateFile) -> Iterator[DeviceIn]:
    for entry in estate.estates:
        yield from entry.devices


def _first(estate: EstateFile, device_type: str, *, building: str | None = None,
           unit: str | None = None, kind: str | None = None, skip: int = 0) -> str | None:
    matches = [d.id for d in _devices(estate) if d.type == device_type
               and (building is None or d.building == building)
               and (unit is None or d.unit == unit) and (kind is None or d.kind == kind)]
    return matches[min(skip, len(matches) - 1)] if matches else None


def default_plan(estate: EstateFile) -> FaultPlan:
    """The demo's faults, on devices that exist in `estate` (missing targets are left out)."""
    wanted: list[tuple[str | None, Fault]] = [
        (_first(estate, "leak_sensor", building="b41", unit="u2"),
         Fault(FaultKind.LEAK, "", start_s=120, duration_s=1800)),
        (_first(estate, "voice_light", skip=9),
         Fault(FaultKind.DEAD_LAMP, "", start_s=60, duration_s=900)),
        (_first(estate, "barrier_gate"),
         Fault(FaultKind.GATE_STUCK_OPEN, "", start_s=180, duration_s=600)),
        (_first(estate, "leak_sensor", skip=30),
         Fault(FaultKind.FLAPPING_LEAK, "", start_s=240, duration_s=300, report_every_s=15)),
        (_first(estate, "ev_charger", kind="ebike"),
         Fault(FaultKind.CHARGER_OVERHEAT, "", start_s=300, duration_s=900, report_every_s=30)),
        (_first(estate, "ev_charger", kind="car"),
         Fault(FaultKind.CONNECTION_LOST, "", start_s=420, duration_s=600)),
    ]
    for index, malformed in enumerate(MalformedKind):
        target = _first(estate, "leak_sensor", skip=2 + index)
        wanted.append((target, Fault(FaultKind.MALFORMED, "", start_s=30 + 15 * index,
                                     duration_s=0, malformed=malformed)))
    faults = [replace(fault, device_id=device) for device, fault in wanted if device]
    return FaultPlan(tuple(faults))


def fault_plan(name: str, estate: EstateFile) -> FaultPlan:
    """`--faults none|default`."""
    if name == "none":
        return FaultPlan.none()
    if name == "default":
        return default_plan(estate)
    raise ValueError(f"unknown fault plan {name!r}; choose none or default")


@dataclass(slots=True)
class ActiveFault:
    """A fault while it lasts on one device, with how many reports it has shaped."""

    fault: Fault
    started_at_s: float
    reports: int = 0
    ending: bool = field(default=False)


def apply_fault(active: ActiveFault, messages: list[Message], elapsed_s: float) -> list[Message]:
    """The device's messages as the fault changes them (malformed and offline: unchanged)."""
    kind = active.fault.kind
    if kind is FaultKind.GATE_STUCK_OPEN:
        messages = [m for m in messages if m.channel == "telemetry"]
    return [replace(m, body=_overlay(kind, m.body, active, elapsed_s))
            if m.channel == "telemetry" else m for m in messages]


def _overlay(kind: FaultKind, body: Body, active: ActiveFault, elapsed_s: float) -> Body:
    changed = dict(body)
    in_fault_s = max(0.0, elapsed_s - active.started_at_s)
    if kind is FaultKind.LEAK:
        changed["leak"] = True
    elif kind is FaultKind.FLAPPING_LEAK:
        changed["leak"] = active.reports % 2 == 0
    elif kind is FaultKind.CHARGER_OVERHEAT:
        changed["status"] = "charging"
        changed["temperature_c"] = round(61.0 + min(12.0, in_fault_s / 60), 1)
        changed["power_kw"] = body.get("power_kw") or 1.6
    elif kind is FaultKind.GATE_STUCK_OPEN:
        changed["position"] = "open"
        changed["loop_occupied"] = False
    elif kind is FaultKind.DEAD_LAMP:
        changed["state"] = "on"
        changed["current_ma"] = round(0.8 + (active.reports % 3) * 0.9, 1)
    return changed


@dataclass(frozen=True, slots=True)
class RawMessage:
    topic: str
    payload: bytes


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def malformed_message(kind: MalformedKind, estate_id: str, device: DeviceIn, body: Body, *,
                      profile: DeviceProfile | None, wall_time: float) -> RawMessage:
    """`body` (a valid, stamped telemetry payload) made malformed in the way `kind` names."""
    return RawMessage(_malformed_topic(kind, estate_id, device),
                      _malformed_payload(kind, body, profile, wall_time))


def _malformed_topic(kind: MalformedKind, estate_id: str, device: DeviceIn) -> str:
    device_type, device_id = device.type, device.id
    if kind is MalformedKind.UNKNOWN_DEVICE:
        device_id = f"ghost-{device.id}"[:64]
    elif kind is MalformedKind.TYPE_MISMATCH:
        device_type = next(t for t in CONTRACT_TYPES if t != device.type)
    return f"estates/{estate_id}/{device_type}/{device_id}/telemetry"


def _malformed_payload(kind: MalformedKind, body: Body, profile: DeviceProfile | None,
                       wall_time: float) -> bytes:
    future_ms = round((wall_time + FUTURE_S) * 1000)
    padding = "x" * (MAX_PAYLOAD_BYTES + 1024)
    builders: dict[MalformedKind, Callable[[], bytes]] = {
        MalformedKind.NOT_JSON: lambda: " ".join(f"{k}={v}" for k, v in body.items()).encode(),
        MalformedKind.JSON_ARRAY: lambda: _dumps([body]),
        MalformedKind.WRONG_TYPE: lambda: _dumps({**body, **dict([_wrong_typed_field(profile)])}),
        # json.dumps writes float("nan") as the bare token NaN, which JSON does not allow.
        MalformedKind.NAN: lambda: json.dumps({**body, _float_field(profile): math.nan}).encode(),
        MalformedKind.FUTURE_TS: lambda: _dumps({**body, "ts": future_ms}),
        MalformedKind.OVERSIZE: lambda: _dumps({**body, "debug_dump": padding}),
    }
    build = builders.get(kind)
    return build() if build is not None else _dumps(body)


def _wrong_typed_field(profile: DeviceProfile | None) -> tuple[str, JsonScalar]:
    """A known field with a value of the wrong type (a bool field gets "yes")."""
    if profile is None:
        return "leak", "yes"
    name, spec = next(iter(sorted(profile.telemetry.items(), key=lambda i: not i[1].required)))
    if spec.type is FieldType.BOOL:
        return name, "yes"
    if spec.type in (FieldType.INT, FieldType.FLOAT):
        return name, "high"
    return name, 42


def _float_field(profile: DeviceProfile | None) -> str:
    if profile is not None:
        for name, spec in profile.telemetry.items():
            if spec.type is FieldType.FLOAT:
                return name
    return "temperature_c"
