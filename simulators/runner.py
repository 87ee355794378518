"""Run a simulated estate against an MQTT broker from one thread.

Devices report at their profile's interval (or the registry's override) with ±10 %
jitter; `speed` compresses simulated time, `rate` caps messages per second overall, and
`devices` cuts or clones the estate for load. Scripted faults start and end on simulated
time.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import threading
import time

from device_profiles import load_profiles
from simulators.bridge import BridgeConnections
from simulators.clock import SimClock
from simulators.config import SimulationConfig, SimulationStats
from simulators.estate import scale_estate
from simulators.fleet import SimDevice, build_fleet
from simulators.loop import Connections, Simulation
from simulators.transport import DeviceConnections

logger = logging.getLogger(__name__)

SPARE_FILES = 256

__all__ = ["SimulationConfig", "SimulationStats", "prepare_fleet", "run_simulation", "simulate"]


def _connections(config: SimulationConfig) -> Connections:
    if config.mode == "bridge":
        return BridgeConnections(config.broker, config.bridge_connections)
    return DeviceConnections(config.broker)


def _ensure_file_limit(needed: int) -> None:
    """A connection per device needs a file descriptor per device."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + SPARE_FILES
    if soft >= want:
        return
    if hard != resource.RLIM_INFINITY and hard < want:
        raise OSError(f"{needed} connections need {want} open files, the limit is {hard}; "
                      "use bridge mode or raise `ulimit -n`")
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def prepare_fleet(config: SimulationConfig) -> list[SimDevice]:
    """The devices to simulate, with the fault plan checked against them."""
    estate = config.estate
    if config.devices is not None:
        estate = scale_estate(estate, config.devices, keep=config.faults.device_ids)
    fleet = build_fleet(estate, load_profiles(config.profile_dirs), seed=config.seed)
    config.faults.check(device.spec for device in fleet)
    return fleet


def run_simulation(config: SimulationConfig, stop: threading.Event) -> SimulationStats:
    """Connect, publish until `stop`, the duration or max_messages, then go offline cleanly."""
    started = time.monotonic()
    fleet = prepare_fleet(config)
    if config.mode == "device":
        _ensure_file_limit(len(fleet))
    connections = _connections(config)
    stats = SimulationStats(devices=len(fleet))
    try:
        connections.open(fleet)
        stats.connections = connections.connections
        logger.info("simulating %d devices over %d connections", len(fleet), stats.connections)
        clock = SimClock(config.speed, config.start_at)
        Simulation(config, fleet, connections, clock, stats).run(stop)
    finally:
        connections.close()
        stats.status_messages = connections.sent - stats.total
        stats.acknowledged = connections.acked
        stats.errors = list(connections.errors)
        stats.elapsed_s = time.monotonic() - started
    return stats


async def simulate(config: SimulationConfig,
                   stop_event: asyncio.Event | None = None) -> SimulationStats:
    """`run_simulation` in a worker thread; setting `stop_event` (or cancelling) stops it."""
    stop = threading.Event()
    relay = asyncio.create_task((stop_event or asyncio.Event()).wait())
    relay.add_done_callback(lambda _: stop.set())
    try:
        return await asyncio.to_thread(run_simulation, config, stop)
    finally:
        stop.set()
        relay.cancel()
