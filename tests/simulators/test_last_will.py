"""Connections: a Last Will per device, and many devices driven from one thread."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import uuid

from simulators import Fault, FaultKind, FaultPlan, SimulationConfig, build_estate
from tests.fixtures.mosquitto import Broker
from tests.simulators.support import Recorder, retained, sim_broker
from tests.simulators.test_runner import running

GATE = "gate-north-in"


def estate_id() -> str:
    return f"will{uuid.uuid4().hex[:8]}"


def test_lost_connection_yields_retained_offline_then_online_again(mosquitto: Broker) -> None:
    eid = estate_id()
    topic = f"estates/{eid}/barrier_gate/{GATE}/status"
    recorder = Recorder(mosquitto.host, mosquitto.port, topic)
    plan = FaultPlan((Fault(FaultKind.CONNECTION_LOST, GATE, start_s=30, duration_s=240),))
    config = SimulationConfig(broker=sim_broker(mosquitto), estate=build_estate(1, estate_id=eid),
                              faults=plan, speed=60)

    with running(config) as (_, results):
        went_offline = recorder.wait_for(lambda got: [m.payload for m in got][-1:] == [b"offline"])
        during = retained(mosquitto.host, mosquitto.port, topic, 1)
        back = recorder.wait_for(lambda got: [m.payload for m in got][-1:] == [b"online"])
    recorder.close()

    assert went_offline
    assert [(m.payload, m.retain) for m in during] == [(b"offline", True)]
    assert back
    devices = results[0].devices
    # online for each device at start, offline for each at the end, online once on return:
    # the gate's "offline" in between came from the broker (its Will), not the simulator.
    assert results[0].status_messages == 2 * devices + 1


def test_killed_simulator_leaves_every_device_offline(mosquitto: Broker) -> None:
    eid = estate_id()
    devices = len(build_estate(1, estate_id=eid).estates[0].devices)
    recorder = Recorder(mosquitto.host, mosquitto.port, f"estates/{eid}/+/+/status")
    script = textwrap.dedent(f"""
        import threading
        from connectors.mqtt import BrokerOptions
        from simulators import SimulationConfig, build_estate, run_simulation
        config = SimulationConfig(broker=BrokerOptions(port={mosquitto.port}),
                                  estate=build_estate(1, estate_id={eid!r}))
        run_simulation(config, threading.Event())
    """)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=os.getcwd())
    try:
        all_online = recorder.wait_for(
            lambda got: sum(m.payload == b"online" for m in got) >= devices, timeout=30)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    all_offline = recorder.wait_for(
        lambda got: sum(m.payload == b"offline" for m in got) >= devices)
    recorder.close()
    statuses = retained(mosquitto.host, mosquitto.port, f"estates/{eid}/+/+/status", devices)

    assert all_online
    assert all_offline
    assert len(statuses) == devices
    assert {m.payload for m in statuses} == {b"offline"}


def test_hundreds_of_devices_share_one_thread(mosquitto: Broker) -> None:
    eid = estate_id()
    estate = build_estate(60, estate_id=eid)
    recorder = Recorder(mosquitto.host, mosquitto.port, f"estates/{eid}/+/+/status")
    before = threading.active_count()
    config = SimulationConfig(broker=sim_broker(mosquitto), estate=estate, devices=300, speed=60)

    with running(config) as (_, results):
        online = recorder.wait_for(
            lambda got: sum(m.payload == b"online" for m in got) >= 300, timeout=60)
        during = threading.active_count()
    recorder.close()

    assert online
    assert results[0].connections == 300
    assert during <= before + 1
