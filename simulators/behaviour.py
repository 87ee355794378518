"""Small per-type models that turn simulated time into contract-shaped payloads.

Each model is stepped once per report with the simulated local time and the simulated
seconds since its last report; it returns the events that happened in between (each with
how long ago) and then its telemetry.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

from device_profiles import DeviceProfile, FieldType
from registry.schema import DeviceIn
from simulators import daylife
from simulators.clock import SHANGHAI

JsonScalar = bool | int | float | str | None
Body = dict[str, JsonScalar]
Channel = Literal["telemetry", "event"]

LAMP_ON_S = 45.0
CHARGER_POWER_KW = {"ebike": (1.0, 2.0), "car": (6.6, 7.2)}
CHARGER_SESSION_H = {"ebike": (1.5, 5.0), "car": (2.0, 7.0)}
CHARGER_METER_START_KWH = {"ebike": (50.0, 900.0), "car": (300.0, 6000.0)}
CHARGER_HEAT_C = {"ebike": 16.0, "car": 22.0}
GATE_OPEN_S = 6.0
GATE_MOVING_S = 9.0
GATE_LOOP_S = 4.0


@dataclass(frozen=True, slots=True)
class Message:
    channel: Channel
    body: Body
    ago_s: float = 0.0
    """Simulated seconds before the report at which this happened."""


class DeviceModel(Protocol):
    def step(self, now: datetime, dt_s: float) -> list[Message]: ...


class TsStyle(StrEnum):
    EPOCH_MS = "epoch_ms"
    RFC3339 = "rfc3339"


def format_ts(epoch_s: float, style: TsStyle) -> int | str:
    if style is TsStyle.EPOCH_MS:
        return round(epoch_s * 1000)
    return datetime.fromtimestamp(epoch_s, SHANGHAI).isoformat(timespec="milliseconds")


def stamp(body: Body, ts: int | str, seq: int) -> Body:
    return {"ts": ts, "seq": seq, **body}


class LeakSensorModel:
    """Dry, with a slowly draining battery and a little radio noise."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.battery = rng.uniform(55.0, 100.0)
        self._rssi = rng.gauss(-70.0, 7.0)

    def step(self, now: datetime, dt_s: float) -> list[Message]:
        self.battery = max(0.0, self.battery - dt_s / 86_400 * 0.15)
        return [Message("telemetry", {
            "leak": False,
            "battery": round(self.battery, 1),
            "rssi": round(min(-35.0, self._rssi + self._rng.gauss(0, 2))),
            "temperature_c": round(daylife.indoor_temperature_c(now) + self._rng.gauss(0, 0.3), 1),
        })]


class VoiceLightModel:
    """Switched on by footsteps after dark; on for LAMP_ON_S after each trigger."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.sound_db = round(rng.uniform(55.0, 70.0), 1)

    def step(self, now: datetime, dt_s: float) -> list[Message]:
        triggers = 0
        if daylife.is_dark(now):
            rate = daylife.rate_at(daylife.STAIRWELL_TRIGGERS, now)
            triggers = daylife.poisson(self._rng, rate * dt_s / 3600)
        agos = sorted((self._rng.uniform(0, dt_s) for _ in range(triggers)), reverse=True)
        messages = []
        for ago in agos:
            self.sound_db = round(self._rng.uniform(52.0, 78.0), 1)
            body: Body = {"event": "triggered", "sound_db": self.sound_db}
            messages.append(Message("event", body, ago))
        on = bool(agos) and agos[-1] < LAMP_ON_S
        current = min(45.0, max(35.0, self._rng.gauss(40.0, 1.5))) if on else 0.0
        messages.append(Message("telemetry", {
            "state": "on" if on else "off", "current_ma": round(current, 1),
            "sound_db": self.sound_db,
        }))
        return messages


class ChargerModel:
    """OCPP-style connector: available → preparing → charging → finishing → available."""

    def __init__(self, rng: random.Random, kind: str, device_id: str) -> None:
        self._rng = rng
        self.kind = kind if kind in CHARGER_POWER_KW else "ebike"
        self._device_id = device_id
        self.status = "available"
        self.energy_kwh = rng.uniform(*CHARGER_METER_START_KWH[self.kind])
        self._heat_c = 0.0
        self._power_kw = 0.0
        self._remaining_s = 0.0
        self._sessions = 0
        if rng.random() < 0.25:
            self._begin_session()
            self._remaining_s *= rng.random()

    def _arrivals(self) -> tuple[float, ...]:
        return daylife.EBIKE_ARRIVALS if self.kind == "ebike" else daylife.CAR_ARRIVALS

    def _begin_session(self) -> Message:
        self.status = "charging"
        self._sessions += 1
        low, high = CHARGER_SESSION_H[self.kind]
        self._remaining_s = self._rng.uniform(low, high) * 3600
        self._power_kw = self._rng.uniform(*CHARGER_POWER_KW[self.kind])
        return Message("event", {"event": "session_start", "session_id": self.session_id,
                                 "energy_kwh": round(self.energy_kwh, 3)})

    @property
    def session_id(self) -> str:
        return f"{self._device_id}-{self._sessions:05d}"

    def _advance(self, now: datetime, dt_s: float) -> list[Message]:
        if self.status == "available":
            if daylife.happens(self._rng, daylife.rate_at(self._arrivals(), now), dt_s):
                self.status = "preparing"
            return []
        if self.status == "preparing":
            return [self._begin_session()]
        if self.status == "charging":
            self.energy_kwh += self._power_kw * dt_s / 3600
            self._remaining_s -= dt_s
            if self._remaining_s <= 0:
                self.status = "finishing"
                return [Message("event", {"event": "session_stop", "session_id": self.session_id,
                                          "energy_kwh": round(self.energy_kwh, 3)})]
            return []
        self.status = "available"
        return []

    def step(self, now: datetime, dt_s: float) -> list[Message]:
        messages = self._advance(now, dt_s)
        charging = self.status == "charging"
        target = CHARGER_HEAT_C[self.kind] if charging else 0.0
        self._heat_c += (target - self._heat_c) * (1 - math.exp(-dt_s / 1200))
        temperature = daylife.outdoor_temperature_c(now) + 8.0 + self._heat_c
        power = self._power_kw * self._rng.uniform(0.95, 1.0) if charging else 0.0
        messages.append(Message("telemetry", {
            "status": self.status, "power_kw": round(power, 2),
            "energy_kwh": round(self.energy_kwh, 3),
            "temperature_c": round(temperature + self._rng.gauss(0, 0.2), 1),
            "fault_code": None, "connector": 1,
        }))
        return messages


class BarrierGateModel:
    """One lane: vehicles pass at rush-hour-shaped rates; the arm opens for each."""

    def __init__(self, rng: random.Random, lane: str, plate_seed: int) -> None:
        self._rng = rng
        self.lane = lane
        self._exit = lane.endswith("out")
        self._scale = 0.7 if lane.startswith("south") else 1.0
        self._plate_seed = plate_seed

    def step(self, now: datetime, dt_s: float) -> list[Message]:
        curve = daylife.GATE_EXITS if self._exit else daylife.GATE_ENTRIES
        rate = daylife.rate_at(curve, now) * self._scale
        count = daylife.poisson(self._rng, rate * dt_s / 3600)
        agos = sorted((self._rng.uniform(0, dt_s) for _ in range(count)), reverse=True)
        event = "vehicle_exit" if self._exit else "vehicle_entry"
        messages = []
        for ago in agos:
            plate = daylife.any_plate(self._rng, self._plate_seed)
            body: Body = {"event": event, "plate": plate, "lane": self.lane}
            messages.append(Message("event", body, ago))
            if self._rng.random() < 0.01:
                messages.append(Message("event", {"event": "obstruction"}, ago))
        if daylife.happens(self._rng, 0.05, dt_s):
            messages.append(Message("event", {"event": "manual_open", "operator": "门岗值班员"}))
        last = agos[-1] if agos else math.inf
        position = "open" if last < GATE_OPEN_S else "moving" if last < GATE_MOVING_S else "closed"
        messages.append(Message("telemetry", {
            "position": position, "loop_occupied": last < GATE_LOOP_S, "fault_code": None,
        }))
        return messages


class ProfileModel:
    """For device types known only from a profile: plausible values of each declared field."""

    def __init__(self, rng: random.Random, profile: DeviceProfile) -> None:
        self._rng = rng
        self._profile = profile

    def step(self, now: datetime, dt_s: float) -> list[Message]:
        body: Body = {}
        for name, spec in self._profile.telemetry.items():
            if spec.type is FieldType.BOOL:
                body[name] = False
            elif spec.type is FieldType.ENUM:
                body[name] = (spec.values or ("",))[0]
            elif spec.type in (FieldType.INT, FieldType.FLOAT):
                value = self._rng.uniform(spec.min or 0.0, spec.max or (spec.min or 0.0) + 100)
                body[name] = round(value) if spec.type is FieldType.INT else round(value, 2)
            else:
                body[name] = None if spec.nullable else "ok"
        return [Message("telemetry", body)]


def model_for(device: DeviceIn, profile: DeviceProfile | None, rng: random.Random,
              plate_seed: int = 0) -> DeviceModel:
    """The behaviour of one device; types without a built-in model follow their profile."""
    if device.type == "leak_sensor":
        return LeakSensorModel(rng)
    if device.type == "voice_light":
        return VoiceLightModel(rng)
    if device.type == "ev_charger":
        return ChargerModel(rng, device.kind or "ebike", device.id)
    if device.type == "barrier_gate":
        return BarrierGateModel(rng, device.location or device.id, plate_seed)
    if profile is None:
        raise ValueError(f"device {device.id!r}: no profile for type {device.type!r}")
    return ProfileModel(rng, profile)
