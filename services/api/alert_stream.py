"""Live alerts for the API's server-sent events: one MQTT subscription, fanned out to clients.

The escalation worker publishes each alert on `estateops/alerts/{estate}/{priority}/{work_order}`
(JSON). The API subscribes once to `estateops/alerts/#` and hands every alert to the
connected clients whose estates include the alert's estate. Each client has a bounded queue;
a client that reads too slowly loses its OLDEST alerts (the newest matter most), counted in
`estateops_api_alerts_dropped_total` and in the client's own `dropped`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge

from connectors.mqtt import MqttSettings, consume

log = logging.getLogger(__name__)

ALERT_TOPIC_PREFIX = "estateops/alerts/"
ALERT_SUBSCRIPTION = ALERT_TOPIC_PREFIX + "#"
DEFAULT_QUEUE_SIZE = 100
DEFAULT_KEEPALIVE_S = 15.0

ALERTS_RECEIVED = Counter("estateops_api_alerts_received", "Alerts read from the MQTT alert topics")
ALERTS_REJECTED = Counter("estateops_api_alerts_rejected", "LiveAlert messages that were not JSON")
ALERTS_DROPPED = Counter(
    "estateops_api_alerts_dropped", "Alerts dropped, oldest first, for slow stream clients"
)
STREAM_CLIENTS = Gauge(
    "estateops_api_alert_stream_clients", "Clients connected to the alert stream"
)
ALERTS_CONNECTED = Gauge("estateops_api_alerts_broker_connected", "1 while subscribed to alerts")


@dataclass(frozen=True, slots=True)
class LiveAlert:
    estate_id: str
    priority: str
    work_order_id: str
    body: dict[str, Any]

    def as_json(self) -> str:
        return json.dumps({"estate_id": self.estate_id, "priority": self.priority,
                           "work_order_id": self.work_order_id, **self.body},
                          ensure_ascii=False, separators=(",", ":"), default=str)


def parse_alert(topic: str, payload: bytes) -> LiveAlert | None:
    """The alert on `topic`, or None if the topic or the JSON object is malformed."""
    parts = topic.removeprefix(ALERT_TOPIC_PREFIX).split("/")
    if not topic.startswith(ALERT_TOPIC_PREFIX) or len(parts) != 3 or not all(parts):
        return None
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    estate_id, priority, work_order_id = parts
    return LiveAlert(estate_id=estate_id, priority=priority, work_order_id=work_order_id, body=body)


@dataclass(eq=False)
class AlertSubscription:
    """One stream client: the estates it may see (None: all) and its bounded queue."""

    estates: frozenset[str] | None
    queue: asyncio.Queue[LiveAlert]
    dropped: int = 0

    def wants(self, alert: LiveAlert) -> bool:
        return self.estates is None or alert.estate_id in self.estates

    def offer(self, alert: LiveAlert) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
            ALERTS_DROPPED.inc()
        self.queue.put_nowait(alert)

    async def next(self) -> LiveAlert:
        return await self.queue.get()


@dataclass(eq=False)
class AlertHub:
    """Fan-out of alerts to connected stream clients; lives as long as the API's lifespan."""

    queue_size: int = DEFAULT_QUEUE_SIZE
    keepalive_s: float = DEFAULT_KEEPALIVE_S
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    _clients: set[AlertSubscription] = field(default_factory=set)

    @property
    def clients(self) -> int:
        return len(self._clients)

    @contextlib.contextmanager
    def subscribe(self, estates: frozenset[str] | None) -> Iterator[AlertSubscription]:
        client = AlertSubscription(estates=estates, queue=asyncio.Queue(self.queue_size))
        self._clients.add(client)
        STREAM_CLIENTS.inc()
        try:
            yield client
        finally:
            self._clients.discard(client)
            STREAM_CLIENTS.dec()

    def publish(self, alert: LiveAlert) -> int:
        """Hand `alert` to every client allowed to see it; how many that was."""
        receivers = [client for client in self._clients if client.wants(alert)]
        for client in receivers:
            client.offer(alert)
        return len(receivers)

    def receive(self, topic: str, payload: bytes) -> None:
        alert = parse_alert(topic, payload)
        if alert is None:
            ALERTS_REJECTED.inc()
            log.warning("ignoring a malformed alert on %s", topic)
            return
        ALERTS_RECEIVED.inc()
        self.publish(alert)


async def listen_for_alerts(settings: MqttSettings, hub: AlertHub) -> None:
    """Feed `hub` from the broker until cancelled; while it is unreachable, retry with backoff.

    Every API process wants every alert, so its own id and a clean session: alerts from
    before it started are of no use to clients connected now.
    """

    async def receive(topic: str, payload: bytes, _received_ns: int) -> None:
        hub.receive(topic, payload)

    await consume(settings, receive, hub.subscribed, subscription=ALERT_SUBSCRIPTION, qos=1,
                  client_id=f"estateops-api-{uuid.uuid4().hex[:12]}", persistent=False,
                  connected_gauge=ALERTS_CONNECTED)
