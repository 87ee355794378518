"""Prometheus metrics of the ingest path (registered in the default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_RECEIVED = Counter(
    "estateops_messages_received", "MQTT messages received by the gateway", ["channel"]
)
MESSAGES_REJECTED = Counter(
    "estateops_messages_rejected", "Messages refused and dead-lettered", ["reason"]
)
MESSAGES_DUPLICATE = Counter(
    "estateops_messages_duplicate", "Redeliveries recognised by a repeated seq and stored once"
)
POINTS_WRITTEN = Counter("estateops_points_written", "Points written to the telemetry store")
POINTS_DROPPED = Counter(
    "estateops_points_dropped", "Points the store refused as bad data (dead-lettered)"
)
WRITE_RETRIES = Counter("estateops_store_write_retries", "Store writes retried after an error")
WRITE_LATENCY = Histogram(
    "estateops_store_write_seconds", "Time to write one batch to the telemetry store",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram(
    "estateops_store_batch_points", "Points per store write",
    buckets=(1, 10, 50, 100, 500, 1000, 2500, 5000, 10000),
)
QUEUE_DEPTH = Gauge("estateops_point_queue_depth", "Points waiting to be written")
DEAD_LETTERS_LOST = Counter(
    "estateops_dead_letters_unsaved", "Dead letters that could not be saved (logged instead)"
)
BROKER_CONNECTED = Gauge("estateops_broker_connected", "1 while the gateway is connected")
STATE_ROWS_DROPPED = Counter(
    "estateops_state_rows_dropped",
    "Device-state rows the database refused as bad data (the rest of their flush is saved)",
)
SPOOL_POINTS = Gauge("estateops_spool_points", "Points in the on-disk spool, not yet stored")
SPOOL_BYTES = Gauge("estateops_spool_bytes", "Bytes of the on-disk spool in use")
SPOOL_FULL = Gauge(
    "estateops_spool_full",
    "1 while the spool refuses batches (at its bound or disk full): messages stay unacknowledged",
)
POINTS_SPOOLED = Counter("estateops_points_spooled", "Points written to the on-disk spool")
POINTS_REPLAYED = Counter(
    "estateops_points_replayed", "Points replayed from the spool into the store"
)
SPOOL_REFUSALS = Counter(
    "estateops_spool_refusals", "Batches the spool refused (full or disk error); kept, not acked"
)
