"""The simulator against a real Mosquitto: exact message counts, valid payloads, faults."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from connectors.mqtt import BrokerOptions
from device_profiles import load_profiles
from simulators import (
    Fault,
    FaultKind,
    FaultPlan,
    SimulationConfig,
    SimulationStats,
    SimulatorConnectionError,
    build_estate,
    default_plan,
    run_simulation,
    simulate,
)
from simulators.loop import TokenBucket
from tests.fixtures.mosquitto import Broker
from tests.fixtures.processes import free_port
from tests.simulators.support import (
    Recorder,
    contract_errors,
    data_messages,
    retained,
    sim_broker,
)


def estate_id() -> str:
    return f"sim{uuid.uuid4().hex[:8]}"


@contextmanager
def running(config: SimulationConfig) -> Iterator[tuple[threading.Event, list[SimulationStats]]]:
    """Run the simulator in a thread until the block ends."""
    stop, results = threading.Event(), []
    thread = threading.Thread(target=lambda: results.append(run_simulation(config, stop)))
    thread.start()
    try:
        yield stop, results
    finally:
        stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive()


def test_max_messages_publishes_exactly_n_contract_valid_messages(mosquitto: Broker) -> None:
    eid = estate_id()
    recorder = Recorder(mosquitto.host, mosquitto.port, f"estates/{eid}/#")
    config = SimulationConfig(broker=sim_broker(mosquitto), estate=build_estate(3, estate_id=eid),
                              speed=600, max_messages=300, seed=1)

    stats = run_simulation(config, threading.Event())

    recorder.wait_for(lambda got: len(data_messages(got)) >= 300)
    recorder.wait_for(lambda got: False, timeout=0.5)  # anything extra would arrive now
    recorder.close()
    received = data_messages(recorder.snapshot())
    profiles = load_profiles()
    assert stats.total == 300
    assert len(received) == 300
    for message in received:
        assert isinstance(json.loads(message.payload), dict)
        assert contract_errors(profiles, message.topic, message.payload) == [], message
    assert {m.topic.split("/")[2] for m in received} == set(stats.by_type)
    assert stats.acknowledged == stats.total + stats.status_messages


def test_leak_in_building_41_unit_2_is_published(mosquitto: Broker) -> None:
    eid = estate_id()
    topic = f"estates/{eid}/leak_sensor/b41-u2-leak/telemetry"
    recorder = Recorder(mosquitto.host, mosquitto.port, topic)
    plan = FaultPlan((Fault(FaultKind.LEAK, "b41-u2-leak", start_s=0, duration_s=3600),))
    config = SimulationConfig(broker=sim_broker(mosquitto), estate=build_estate(estate_id=eid),
                              faults=plan, devices=20, speed=10)

    with running(config) as (_, results):
        seen = recorder.wait_for(lambda got: len(got) > 0)
    recorder.close()

    assert seen
    body = json.loads(recorder.snapshot()[0].payload)
    assert body["leak"] is True
    assert contract_errors(load_profiles(), topic, recorder.snapshot()[0].payload) == []
    assert results[0].by_fault["leak:b41-u2-leak"] >= 1


def test_default_plan_puts_every_malformed_kind_on_the_wire(mosquitto: Broker) -> None:
    eid = estate_id()
    estate = build_estate(3, estate_id=eid)
    recorder = Recorder(mosquitto.host, mosquitto.port, f"estates/{eid}/#")
    config = SimulationConfig(broker=sim_broker(mosquitto), estate=estate,
                              faults=default_plan(estate), speed=300, duration_s=2.0)

    stats = run_simulation(config, threading.Event())
    recorder.wait_for(lambda got: len(got) >= stats.total + stats.status_messages)
    recorder.close()

    payloads = [m.payload for m in data_messages(recorder.snapshot())]
    topics = [m.topic for m in data_messages(recorder.snapshot())]
    registered = {(d.type, d.id) for d in estate.estates[0].devices}

    def parses(p: bytes) -> object:
        try:
            return json.loads(p)
        except ValueError:
            return None

    assert any(parses(p) is None for p in payloads)
    assert any(isinstance(parses(p), list) for p in payloads)
    assert any(b'"leak":"yes"' in p for p in payloads)
    assert any(b"NaN" in p for p in payloads)
    assert any(len(p) > 64 * 1024 for p in payloads)
    assert any(t.split("/")[3] not in {i for _, i in registered} for t in topics)
    assert any(tuple(t.split("/")[2:4]) not in registered
               and t.split("/")[3] in {i for _, i in registered} for t in topics)
    malformed = [label for label in stats.by_fault if label.startswith("malformed_")]
    assert len(malformed) == 8


def test_bridge_mode_publishes_for_many_devices_over_few_connections(mosquitto: Broker) -> None:
    eid = estate_id()
    estate = build_estate(2, estate_id=eid)
    devices = len(estate.estates[0].devices)
    recorder = Recorder(mosquitto.host, mosquitto.port, f"estates/{eid}/#")
    config = SimulationConfig(broker=sim_broker(mosquitto), estate=estate, mode="bridge",
                              bridge_connections=2, speed=600, max_messages=100)

    stats = run_simulation(config, threading.Event())
    statuses = retained(mosquitto.host, mosquitto.port, f"estates/{eid}/+/+/status", devices)
    recorder.wait_for(lambda got: len(data_messages(got)) >= 100)
    recorder.close()

    assert stats.connections == 2
    assert len(data_messages(recorder.snapshot())) == 100
    online = [m for m in recorder.snapshot() if m.payload == b"online"]
    assert len(online) == devices
    assert len(statuses) == devices
    assert {m.payload for m in statuses} == {b"offline"}


async def test_simulate_runs_in_a_thread_until_the_event_is_set(mosquitto: Broker) -> None:
    eid = estate_id()
    recorder = Recorder(mosquitto.host, mosquitto.port, f"estates/{eid}/+/+/telemetry")
    stop = asyncio.Event()
    config = SimulationConfig(broker=sim_broker(mosquitto), estate=build_estate(1, estate_id=eid),
                              speed=120)

    task = asyncio.create_task(simulate(config, stop))
    seen = await asyncio.to_thread(recorder.wait_for, lambda got: len(got) >= 5)
    stop.set()
    stats = await asyncio.wait_for(task, timeout=30)
    recorder.close()

    assert seen
    assert stats.total >= 5


def test_rate_caps_messages_per_second(mosquitto: Broker) -> None:
    config = SimulationConfig(broker=sim_broker(mosquitto), speed=3600, rate=40, duration_s=1.0,
                              estate=build_estate(2, estate_id=estate_id()))

    stats = run_simulation(config, threading.Event())

    # 40 msg/s over the time the run really took (a loaded machine stretches the second),
    # plus the bucket's initial burst and one report's events. Uncapped, 3600x speed would
    # publish thousands.
    assert 0 < stats.total <= 40 * max(stats.elapsed_s, 1.0) + 4 + 10


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=10, now=0.0)
    bucket.spend(1)
    assert not bucket.ready(0.0)
    assert bucket.wait_s(0.0) == pytest.approx(0.1)
    assert bucket.ready(0.1)


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="speed must be positive"):
        SimulationConfig(speed=0, estate=build_estate(1))


def test_unreachable_broker_is_a_clear_error() -> None:
    config = SimulationConfig(broker=BrokerOptions(port=free_port()),
                              estate=build_estate(1, estate_id=estate_id()))
    with pytest.raises(SimulatorConnectionError, match="cannot reach the MQTT broker"):
        run_simulation(config, threading.Event())
