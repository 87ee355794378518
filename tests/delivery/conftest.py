"""A real Mosquitto per test, configured like deploy/'s for delivery: persistence, an
unbounded queue and an in-flight limit set on purpose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.mosquitto import Broker
from tests.fixtures.processes import free_port, require_binary, running

INFLIGHT = 1_000  # unacknowledged per client: below the stream, so the bound shows (deploy: 20 000)


def persistent_mosquitto_config(port: int, data_dir: Path) -> str:
    return "\n".join([
        "user root",
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        "persistence true",
        f"persistence_location {data_dir}/",
        "max_queued_messages 0",
        f"max_inflight_messages {INFLIGHT}",
        "log_type error",
        "log_type warning",
        "log_dest stdout",
        "",
    ])


@pytest.fixture
def persistent_mosquitto(tmp_path: Path) -> Iterator[Broker]:
    binary = require_binary("mosquitto", "mosquitto", search=["/usr/sbin/mosquitto"])
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(persistent_mosquitto_config(port, tmp_path))
    log = tmp_path / "mosquitto.log"
    with running([binary, "-c", str(config)], log=log, what="mosquitto", port=port):
        yield Broker("127.0.0.1", port, log)
