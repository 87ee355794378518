"""The device registry: estates, buildings, units and devices, imported from estate files."""

from registry.tables import Building, Device, Estate, Unit

__all__ = ["Building", "Device", "Estate", "Unit"]
