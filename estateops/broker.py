"""An embedded MQTT 3.1.1 broker (amqtt) for the demo, when no broker is configured."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from amqtt.broker import Broker

log = logging.getLogger(__name__)


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
    broker = Broker(config)
    await broker.start()
    log.info("embedded broker listening on %s:%s", host, port)
    try:
        yield f"mqtt://{host}:{port}"
    finally:
        await broker.shutdown()
