"""The device registry: estates, buildings, units, devices, their last state, dead letters."""

from services.registry.tables import (
    Building,
    DeadLetter,
    Device,
    DeviceState,
    Estate,
    Unit,
)

__all__ = ["Building", "DeadLetter", "Device", "DeviceState", "Estate", "Unit"]
