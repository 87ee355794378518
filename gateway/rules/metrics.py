"""Prometheus metrics of the rule engine (registered in the default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ANOMALIES = Counter(
    "estateops_anomalies", "Anomalies raised or cleared by the rule engine",
    ["kind", "device_type", "rule"],
)
ANOMALIES_UNDELIVERED = Counter(
    "estateops_anomalies_undelivered",
    "Outbox rounds stopped at an anomaly the work-order intake refused after retries (kept)"
)
ANOMALY_QUEUE_DEPTH = Gauge("estateops_anomaly_queue_depth", "Anomalies waiting for delivery")
RULE_ERRORS = Counter(
    "estateops_rule_errors", "Messages whose rule evaluation failed (logged; message kept)"
)
RULE_DEADLINES = Gauge("estateops_rule_deadlines", "Rule states waiting for a deadline")
