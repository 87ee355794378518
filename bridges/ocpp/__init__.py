"""OCPP 1.6J: chargers as contract devices ([README](../README.md))."""

from bridges.ocpp.central import CentralSystem, charge_point_id

__all__ = ["CentralSystem", "charge_point_id"]
