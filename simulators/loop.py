"""The scheduling loop: fault transitions, due reports, the rate limit and network I/O."""

from __future__ import annotations

import heapq
import logging
import threading

from simulators.bridge import BridgeConnections
from simulators.clock import SimClock
from simulators.config import SimulationConfig, SimulationStats
from simulators.faults import ActiveFault, Fault, FaultKind
from simulators.fleet import SimDevice
from simulators.transport import DeviceConnections

logger = logging.getLogger(__name__)

MISC_EVERY_S = 1.0
MAX_WAIT_S = 0.2
MAX_UNACKED = 5000
"""Backpressure: past this many unacknowledged messages, due reports wait (none dropped)."""


class TokenBucket:
    """At most `rate` messages per second on average, in bursts of up to a tenth of that."""

    def __init__(self, rate: float, now: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, rate / 10)
        self.tokens = self.capacity
        self._at = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.rate)
        self._at = now

    def ready(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= 1

    def spend(self, count: int) -> None:
        self.tokens -= count

    def wait_s(self, now: float) -> float:
        self._refill(now)
        return max(0.0, (1 - self.tokens) / self.rate)


Connections = DeviceConnections | BridgeConnections


class Simulation:
    """Publishes each device's reports when due and applies faults on simulated time."""

    def __init__(self, config: SimulationConfig, fleet: list[SimDevice],
                 connections: Connections, clock: SimClock, stats: SimulationStats) -> None:
        self.config, self.fleet, self.connections = config, fleet, connections
        self.clock, self.stats = clock, stats
        self._index = {device.id: i for i, device in enumerate(fleet)}
        self._generation = [0] * len(fleet)
        self._due: list[tuple[float, int, int]] = []
        now = clock.monotonic()
        self._bucket = TokenBucket(config.rate, now) if config.rate else None
        for i, device in enumerate(fleet):
            self._schedule(i, now + device.rng.uniform(0, device.interval_s) / clock.speed)
        self._timeline: list[tuple[float, int, str, Fault]] = []
        for order, fault in enumerate(config.faults.faults):
            self._timeline.append((fault.start_s, 2 * order, "start", fault))
            self._timeline.append((fault.start_s + fault.duration_s, 2 * order + 1, "end", fault))
        heapq.heapify(self._timeline)

    def _schedule(self, index: int, at: float) -> None:
        self._generation[index] += 1
        heapq.heappush(self._due, (at, self._generation[index], index))

    def _budget_left(self) -> int | None:
        if self.config.max_messages is None:
            return None
        return self.config.max_messages - self.stats.total

    def run(self, stop: threading.Event) -> None:
        started = self.clock.monotonic()
        deadline = started + self.config.duration_s if self.config.duration_s else None
        next_misc = started + MISC_EVERY_S
        while not stop.is_set() and self._budget_left() != 0:
            now = self.clock.monotonic()
            if deadline is not None and now >= deadline:
                break
            self._fault_transitions()
            self._publish_due(now)
            if now >= next_misc:
                self.connections.misc()
                next_misc = now + MISC_EVERY_S
            self.connections.poll(self._wait_s(now, min(next_misc, deadline or next_misc)))

    def _wait_s(self, now: float, horizon: float) -> float:
        wake = min(horizon, now + MAX_WAIT_S)
        if self._due:
            wake = min(wake, self._due[0][0])
        if self._timeline:
            wake = min(wake, self.clock.wall_due(self._timeline[0][0]))
        wait = wake - now
        if self._backpressured():
            return MAX_WAIT_S  # the poll returns as soon as acknowledgements arrive
        if self._bucket is not None and self._due and self._due[0][0] <= now:
            wait = max(wait, self._bucket.wait_s(now))
        return max(0.0, wait)

    def _backpressured(self) -> bool:
        return self.connections.unacked >= MAX_UNACKED

    def _fault_transitions(self) -> None:
        elapsed = self.clock.elapsed_sim_s()
        while self._timeline and self._timeline[0][0] <= elapsed:
            at, _, edge, fault = heapq.heappop(self._timeline)
            index = self._index[fault.device_id]
            if edge == "start":
                self._start_fault(index, fault, at)
            else:
                self._end_fault(index, fault)

    def _start_fault(self, index: int, fault: Fault, at: float) -> None:
        device = self.fleet[index]
        device.faults.append(ActiveFault(fault, started_at_s=at))
        logger.info("fault %s starts", fault.label)
        if fault.kind is FaultKind.CONNECTION_LOST:
            self.connections.drop(device.id)
        else:
            self._schedule(index, self.clock.monotonic())

    def _end_fault(self, index: int, fault: Fault) -> None:
        device = self.fleet[index]
        active = next((a for a in device.faults if a.fault is fault), None)
        if active is None:
            return
        logger.info("fault %s ends", fault.label)
        if fault.kind is FaultKind.CONNECTION_LOST:
            device.faults.remove(active)
            self.connections.restore(device.id)
        elif active.reports == 0:
            active.ending = True
            return
        else:
            device.faults.remove(active)
        self._schedule(index, self.clock.monotonic())

    def _publish_due(self, now: float) -> None:
        while self._due and self._due[0][0] <= now and self._budget_left() != 0:
            if self._bucket is not None and not self._bucket.ready(now):
                return
            if self._backpressured():
                return
            _, generation, index = heapq.heappop(self._due)
            if generation != self._generation[index]:
                continue
            device = self.fleet[index]
            self._report(device)
            self._schedule(index, now + device.next_interval_s() / self.clock.speed)

    def _report(self, device: SimDevice) -> None:
        report = device.report(self.clock.elapsed_sim_s(), self.clock.speed,
                               self.clock.wall_time(), self.clock.local_now())
        budget = self._budget_left()
        messages = report.messages if budget is None else report.messages[:budget]
        if device.offline_by_fault or not self.connections.online(device.id):
            self.stats.skipped_offline += len(messages)
            return
        for message in messages:
            if self.connections.publish(device.id, message.topic, message.payload):
                self.stats.by_type[device.spec.type] += 1
                self.stats.by_fault.update(report.fault_labels)
            else:
                self.stats.skipped_offline += 1
        if self._bucket is not None:
            self._bucket.spend(len(messages))
