"""Telemetry stores: InfluxDB 1.x (v1 API), InfluxDB 2.x/3.x (v2 API) and embedded SQLite.

The stores themselves are imported on first use: a gateway writing through the v1 API has
no use for influxdb_client (~400 modules) or the embedded store's query engine.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from connectors.store.base import Aggregate, HistoryBucket, HistoryQuery, StoreError, TelemetryStore
from connectors.store.line_protocol import render_point, render_points

if TYPE_CHECKING:
    from connectors.store.embedded import EmbeddedStore
    from connectors.store.factory import build_store, open_store
    from connectors.store.influx_v1 import InfluxV1Store
    from connectors.store.influx_v2 import InfluxV2Store

_LAZY = {
    "EmbeddedStore": "connectors.store.embedded",
    "InfluxV1Store": "connectors.store.influx_v1",
    "InfluxV2Store": "connectors.store.influx_v2",
    "build_store": "connectors.store.factory",
    "open_store": "connectors.store.factory",
}

__all__ = [
    "Aggregate",
    "EmbeddedStore",
    "HistoryBucket",
    "HistoryQuery",
    "InfluxV1Store",
    "InfluxV2Store",
    "StoreError",
    "TelemetryStore",
    "build_store",
    "open_store",
    "render_point",
    "render_points",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
