"""Telemetry stores: InfluxDB 1.x (v1 API), InfluxDB 2.x/3.x (v2 API) and embedded SQLite."""

from connectors.store.base import Aggregate, HistoryBucket, HistoryQuery, StoreError, TelemetryStore
from connectors.store.embedded import EmbeddedStore
from connectors.store.factory import build_store, open_store
from connectors.store.influx_v1 import InfluxV1Store
from connectors.store.influx_v2 import InfluxV2Store
from connectors.store.line_protocol import render_point, render_points

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
