"""Prometheus metrics of the bridges."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

BRIDGE_MESSAGES = Counter(
    "estateops_bridge_messages",
    "Messages a bridge heard, by outcome: translated (republished per the contract), "
    "unknown_device (no registry link), unreadable, ignored",
    ["bridge", "outcome"],
)
OCPP_CONNECTED = Gauge(
    "estateops_ocpp_charge_points_connected", "Charge points connected to the central system")
