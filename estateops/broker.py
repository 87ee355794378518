"""An embedded MQTT 3.1.1 broker (amqtt) for the demo, when no broker is configured."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from amqtt.broker import Broker

log = logging.getLogger(__name__)

LATE_PUBACK = ("Timeout waiting for PUBACK", "Received PUBACK for unknown pending message")


class LatePubackFilter(logging.Filter):
    """Drops amqtt's reports of a PUBACK later than its fixed 5 s (the timeout, its
    traceback, and the late PUBACK's own arrival). The gateway acknowledges only once a
    message is stored and its rule effects saved, which on a busy demo machine can take
    longer; the message was delivered and its PUBACK arrives, so the report is noise that
    reads like data loss."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        failure = record.exc_info[1] if record.exc_info else None
        said = f"{text} {failure or ''}"
        return not any(report in said for report in LATE_PUBACK)


@asynccontextmanager
async def embedded_broker(host: str = "127.0.0.1", port: int = 1883) -> AsyncIterator[str]:
    """Run a broker on host:port for the block; yields its mqtt:// URL."""
    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}", "max_connections": 0}},
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
        },
    }
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for reporter in ("amqtt.broker", "amqtt.mqtt.protocol.handler"):
        logging.getLogger(reporter).addFilter(LatePubackFilter())
    broker = Broker(config)
    await broker.start()
    log.info("embedded broker listening on %s:%s", host, port)
    try:
        yield f"mqtt://{host}:{port}"
    finally:
        await broker.shutdown()
