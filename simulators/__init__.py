"""A simulated estate (龙涤小区 by default) publishing over MQTT per the device contract."""

from simulators.behaviour import DeviceModel, Message, TsStyle, model_for
from simulators.clock import SHANGHAI, SimClock
from simulators.estate import build_estate, load_estate_yaml, scale_estate, write_estate_yaml
from simulators.faults import (
    Fault,
    FaultKind,
    FaultPlan,
    FaultPlanError,
    MalformedKind,
    default_plan,
    fault_plan,
    malformed_message,
)
from simulators.runner import SimulationConfig, SimulationStats, run_simulation, simulate
from simulators.transport import SimulatorConnectionError

__all__ = [
    "SHANGHAI",
    "DeviceModel",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultPlanError",
    "MalformedKind",
    "Message",
    "SimClock",
    "SimulationConfig",
    "SimulationStats",
    "SimulatorConnectionError",
    "TsStyle",
    "build_estate",
    "default_plan",
    "fault_plan",
    "load_estate_yaml",
    "malformed_message",
    "model_for",
    "run_simulation",
    "scale_estate",
    "simulate",
    "write_estate_yaml",
]
