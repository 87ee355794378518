"""The simulated devices at run time: behaviour, faults, sequence numbers and encoding."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from device_profiles import DeviceProfile, ProfileSet
from registry.schema import DeviceIn, EstateFile
from simulators.behaviour import Body, DeviceModel, Message, TsStyle, format_ts, model_for, stamp
from simulators.faults import (
    ActiveFault,
    FaultKind,
    FaultPlan,
    MalformedKind,
    RawMessage,
    apply_fault,
    malformed_message,
)

JITTER = 0.1


class FleetError(ValueError):
    """The estate cannot be simulated as given (e.g. a device type without a profile)."""


@dataclass(slots=True)
class Report:
    """What one device publishes at one report: messages in order, and the faults shaping it."""

    messages: list[RawMessage]
    fault_labels: list[str]


@dataclass(slots=True)
class SimDevice:
    estate_id: str
    spec: DeviceIn
    profile: DeviceProfile | None
    model: DeviceModel
    ts_style: TsStyle
    interval_s: float
    rng: random.Random
    seq: int = 0
    last_report_s: float = 0.0
    faults: list[ActiveFault] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.spec.id

    def topic(self, channel: str) -> str:
        return f"estates/{self.estate_id}/{self.spec.type}/{self.spec.id}/{channel}"

    @property
    def offline_by_fault(self) -> bool:
        return any(a.fault.kind is FaultKind.CONNECTION_LOST for a in self.faults)

    def next_interval_s(self) -> float:
        """Simulated seconds to the next report: the profile's interval with jitter."""
        interval = self.interval_s
        for active in self.faults:
            if active.fault.report_every_s is not None:
                interval = min(interval, active.fault.report_every_s)
        return interval * self.rng.uniform(1 - JITTER, 1 + JITTER)

    def report(self, elapsed_s: float, speed: float, wall_time: float,
               now: datetime) -> Report:
        """Step the model to `now` (simulated local datetime) and encode what it says."""
        dt_s = max(0.0, elapsed_s - self.last_report_s) or self.interval_s
        self.last_report_s = elapsed_s
        messages = self.model.step(now, dt_s)
        labels = [a.fault.label for a in self.faults]
        for active in self.faults:
            messages = apply_fault(active, messages, elapsed_s)
        malformed = next((a.fault.malformed for a in self.faults if a.fault.malformed), None)
        raw = [self._encode(m, speed, wall_time) for m in messages]
        if malformed is not None:
            raw = [self._malformed(malformed, messages, speed, wall_time)]
        for active in self.faults:
            active.reports += 1
        self.faults = [a for a in self.faults if not a.ending]
        return Report(raw, labels)

    def _body(self, message: Message, speed: float, wall_time: float) -> Body:
        self.seq += 1
        ts = format_ts(wall_time - message.ago_s / speed, self.ts_style)
        return stamp(message.body, ts, self.seq)

    def _encode(self, message: Message, speed: float, wall_time: float) -> RawMessage:
        body = self._body(message, speed, wall_time)
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        return RawMessage(self.topic(message.channel), payload)

    def _malformed(self, kind: MalformedKind, messages: list[Message], speed: float,
                   wall_time: float) -> RawMessage:
        telemetry = next(m for m in reversed(messages) if m.channel == "telemetry")
        body = self._body(telemetry, speed, wall_time)
        return malformed_message(kind, self.estate_id, self.spec, body, profile=self.profile,
                                 wall_time=wall_time)


def build_fleet(estate: EstateFile, profiles: ProfileSet, seed: int = 0) -> list[SimDevice]:
    """One SimDevice per enabled device, alternating epoch-ms and RFC 3339 timestamps."""
    devices: list[SimDevice] = []
    for entry in estate.estates:
        for spec in entry.devices:
            if not spec.enabled:
                continue
            profile = profiles.get(spec.type)
            if profile is None:
                raise FleetError(f"device {spec.id!r}: no profile for type {spec.type!r}")
            rng = random.Random(f"device:{seed}:{entry.id}:{spec.id}")
            style = TsStyle.EPOCH_MS if len(devices) % 2 == 0 else TsStyle.RFC3339
            devices.append(SimDevice(
                estate_id=entry.id, spec=spec, profile=profile,
                model=model_for(spec, profile, rng, plate_seed=seed),
                ts_style=style, rng=rng,
                interval_s=spec.reporting_interval_s or profile.reporting_interval_s,
            ))
    return devices


def check_plan(plan: FaultPlan, devices: Sequence[SimDevice]) -> None:
    plan.check(d.spec for d in devices)
