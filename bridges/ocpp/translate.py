"""OCPP 1.6J messages -> contract values (pure functions, no I/O).

| OCPP 1.6 ChargePointStatus | contract `status` |
|---|---|
| Available | available |
| Preparing | preparing |
| Charging, SuspendedEV, SuspendedEVSE | charging (a session is on) |
| Finishing | finishing |
| Reserved, Unavailable | unavailable (not free for a walk-up user) |
| Faulted | faulted |

`errorCode` NoError is `fault_code` null; any other (GroundFailure, HighTemperature,
OverCurrentFailure, ...) is the `fault_code`, so the charger profile's `fault` rule takes it.
MeterValues: Energy.Active.Import.Register (Wh or kWh) -> `energy_kwh`,
Power.Active.Import (W or kW) -> `power_kw`, Temperature (Celsius, Fahrenheit, K) ->
`temperature_c`; per-phase values are left out (the total is what the rules look at).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

STATUS = {
    "Available": "available", "Preparing": "preparing", "Charging": "charging",
    "SuspendedEV": "charging", "SuspendedEVSE": "charging", "Finishing": "finishing",
    "Reserved": "unavailable", "Unavailable": "unavailable", "Faulted": "faulted",
}
ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
TEMPERATURE = "Temperature"


def status_values(*, connector_id: int, status: str, error_code: str,
                  timestamp: str | None = None,
                  vendor_error_code: str | None = None) -> dict[str, object]:
    """A StatusNotification as contract telemetry."""
    values: dict[str, object] = {
        "status": STATUS.get(status, "unavailable"),
        "fault_code": fault_code(error_code, vendor_error_code),
        "connector": connector_id,
    }
    if timestamp:
        values["ts"] = timestamp
    return values


def fault_code(error_code: str, vendor_error_code: str | None = None) -> str | None:
    if error_code == "NoError":
        return None
    if error_code == "OtherError" and vendor_error_code:
        return f"OtherError:{vendor_error_code}"
    return error_code


def meter_readings(connector_id: int,
                   meter_value: Iterable[Mapping[str, Any]]) -> list[dict[str, object]]:
    """One contract telemetry object per MeterValue (a timestamp and its sampled values)."""
    readings = []
    for entry in meter_value:
        values = sampled(entry.get("sampled_value", []))
        if values:
            readings.append({"ts": entry["timestamp"], "connector": connector_id, **values})
    return readings


def sampled(samples: Iterable[Mapping[str, Any]]) -> dict[str, object]:
    values: dict[str, object] = {}
    for sample in samples:
        if sample.get("phase") is not None:
            continue
        converted = _converted(sample)
        if converted is not None:
            values[converted[0]] = converted[1]
    return values


def _converted(sample: Mapping[str, Any]) -> tuple[str, float] | None:
    measurand = sample.get("measurand", ENERGY)  # OCPP's default measurand
    unit = sample.get("unit")
    try:
        number = float(sample["value"])
    except (KeyError, TypeError, ValueError):
        return None
    if measurand == ENERGY:
        return "energy_kwh", number if unit == "kWh" else number / 1000
    if measurand == POWER:
        return "power_kw", number if unit == "kW" else number / 1000
    if measurand == TEMPERATURE:
        return "temperature_c", _celsius(number, unit or "Celsius")
    return None


def _celsius(number: float, unit: str) -> float:
    if unit == "Fahrenheit":
        return round((number - 32) * 5 / 9, 2)
    if unit == "K":
        return round(number - 273.15, 2)
    return number
