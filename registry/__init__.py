"""The device registry: estates, buildings, units and devices, imported from estate files."""

from registry.tables import BridgeLink, Building, Device, Estate, Unit

__all__ = ["BridgeLink", "Building", "Device", "Estate", "Unit"]
