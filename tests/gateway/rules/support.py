"""Factories for rule tests: a clock moved by hand, devices, readings, a sink."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from core.clock import NS_PER_S, ManualClock, datetime_to_ns
from core.telemetry import FieldValue
from core.topic import Channel, Topic
from core.vocabulary import Anomaly, AnomalyKind
from device_profiles import load_profiles
from gateway.decode import StatusChange
from gateway.model import Reading
from gateway.rules import RuleEngine, compile_profiles
from registry.queries import DeviceRef

T0 = datetime(2026, 11, 22, tzinfo=UTC)  # the contract's example instant (08:00 +08:00)
T0_NS = datetime_to_ns(T0)


def at(seconds: float) -> int:
    """T0 + `seconds`, in nanoseconds (the time of readings and of the engine's deadlines)."""
    return T0_NS + round(seconds * NS_PER_S)


def manual_clock(seconds: float = 0.0) -> ManualClock:
    """The project's hand-moved clock, at T0 + `seconds`."""
    return ManualClock(T0 + timedelta(seconds=seconds))


def set_clock(clock: ManualClock, seconds: float) -> None:
    """Move `clock` to T0 + `seconds` (forward or back)."""
    clock.set(T0 + timedelta(seconds=seconds))


class CollectingSink:
    """An AnomalySink that keeps what it is given: raises and clears in `received`, the
    notices that an active rule's condition still holds in `ongoing`."""

    def __init__(self) -> None:
        self.received: list[Anomaly] = []
        self.ongoing: list[Anomaly] = []

    async def __call__(self, anomaly: Anomaly) -> None:
        ongoing = anomaly.kind is AnomalyKind.ONGOING
        (self.ongoing if ongoing else self.received).append(anomaly)

    def of(self, rule: str, kind: AnomalyKind | None = None) -> list[Anomaly]:
        return [one for one in self.received
                if one.rule == rule and (kind is None or one.kind is kind)]


def device(device_type: str, *, pk: int = 1, estate_id: str = "e1", kind: str | None = None,
           interval_s: float | None = None) -> DeviceRef:
    return DeviceRef(pk=pk, estate_id=estate_id, device_id=f"{device_type}-{pk}",
                     device_type=device_type, kind=kind, reporting_interval_s=interval_s,
                     enabled=True)


def telemetry(ref: DeviceRef, seconds: float, **values: FieldValue | None) -> Reading:
    return _reading(ref, seconds, Channel.TELEMETRY, values)


def event(ref: DeviceRef, seconds: float, name: str, **values: FieldValue | None) -> Reading:
    return _reading(ref, seconds, Channel.EVENT, values, event=name)


def _reading(ref: DeviceRef, seconds: float, channel: Channel,
             values: Mapping[str, FieldValue | None], event: str | None = None) -> Reading:
    topic = Topic(ref.estate_id, ref.device_type, ref.device_id, channel)
    return Reading(topic=topic, time_ns=at(seconds), received_ns=at(seconds), seq=None,
                   values=dict(values), event=event)


def status(ref: DeviceRef, seconds: float, *, online: bool) -> StatusChange:
    topic = Topic(ref.estate_id, ref.device_type, ref.device_id, Channel.STATUS)
    return StatusChange(topic=topic, online=online, received_ns=at(seconds))


def builtin_engine() -> RuleEngine:
    return RuleEngine(compile_profiles(load_profiles()))


def kinds(anomalies: list[Anomaly], rule: str | None = None) -> list[tuple[str, str]]:
    """(rule, kind) of each anomaly, for short assertions."""
    return [(one.rule, str(one.kind)) for one in anomalies if rule in (None, one.rule)]


def reading_times(anomaly: Anomaly) -> list[int]:
    readings: list[Mapping[str, Any]] = list(anomaly.readings)
    return [int(item["time_ns"]) for item in readings]
