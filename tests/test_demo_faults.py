"""Issue 3's "done when": the demo's scripted faults each become exactly one work order with
deadlines, and the staff alert reaches a configured apprise target (a local webhook) as well
as the demo's own crew on duty (its rota) and team group routes (its inbox, printed)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import open_database
from gateway.rules.tables import RuleOverride
from registry.tables import Device
from services.workorders.tables import WorkOrder
from simulators.bridged import OCPP_CHARGER, Z2M_LEAK
from simulators.estate import build_estate, write_estate_yaml
from simulators.faults import FaultKind, default_plan
from tests.fixtures.processes import free_port

BUILDINGS = 41  # the leak fault lives in 41号楼2单元
SPEED = 60
RULE_OF_FAULT = {
    FaultKind.LEAK: "water_leak",
    FaultKind.FLAPPING_LEAK: "water_leak",
    FaultKind.CHARGER_OVERHEAT: "overheating",
    FaultKind.GATE_STUCK_OPEN: "stuck_open",
    FaultKind.DEAD_LAMP: "lamp_failure",
    FaultKind.CONNECTION_LOST: "offline",
}


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_address[1]}/alerts", received
    server.shutdown()


def _estateops(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "estateops", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=120, check=False)


async def _shorten_stuck_open(database_url: str) -> None:
    """The demo runs a day at 60x, but a rule's `for` runs on real time: the estate overrides
    the gate's 120 s, as an operator may ("estates may change every number")."""
    async with open_database(database_url) as sessions, sessions.begin() as session:
        session.add(RuleOverride(estate_id="longdi", device_type="barrier_gate",
                                 rule="stuck_open", enabled=True, params={"for_s": 4}))


async def _work_orders(database_url: str) -> dict[tuple[str, str], list[WorkOrder]]:
    found: dict[tuple[str, str], list[WorkOrder]] = {}
    async with open_database(database_url) as sessions, sessions() as session:
        rows = await session.execute(select(Device.device_id, WorkOrder)
                                     .join(Device, Device.id == WorkOrder.device_pk))
        for device_id, work_order in rows.all():
            found.setdefault((device_id, work_order.rule or ""), []).append(work_order)
    return found


def test_each_demo_fault_becomes_one_work_order_and_alerts_staff(
        tmp_path: Path, webhook: tuple[str, list[dict[str, object]]]) -> None:
    alert_url, received = webhook
    data_dir = tmp_path / "var"
    estate = build_estate(buildings=BUILDINGS)
    write_estate_yaml(estate, tmp_path / "estate.yaml")
    imported = _estateops(data_dir, "registry", "import", str(tmp_path / "estate.yaml"))
    assert imported.returncode == 0, imported.stderr
    database_url = f"sqlite:///{data_dir / 'estateops.sqlite3'}"
    asyncio.run(_shorten_stuck_open(database_url))

    demo = subprocess.run(
        [sys.executable, "-m", "estateops", "--data-dir", str(data_dir), "demo",
         "--buildings", str(BUILDINGS), "--speed", str(SPEED), "--duration", "15",
         "--port", str(free_port()), "--mqtt-port", str(free_port()), "--alert-url", alert_url],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]

    work_orders = asyncio.run(_work_orders(database_url))
    expected = {(fault.device_id, RULE_OF_FAULT[fault.kind])
                for fault in default_plan(estate).faults if fault.kind in RULE_OF_FAULT}
    assert len(expected) == len(RULE_OF_FAULT)  # each fault on its own device
    # The devices behind bridges: a Zigbee2MQTT leak, an OCPP HighTemperature fault.
    expected |= {(Z2M_LEAK.id, "water_leak"), (OCPP_CHARGER.id, "fault")}
    for key in sorted(expected):
        orders = work_orders.get(key, [])
        assert len(orders) == 1, (key, demo.stderr[-3000:])
        assert orders[0].ack_due_at is not None
        assert orders[0].resolve_due_at is not None
    leak_device = next(f.device_id for f in default_plan(estate).faults
                       if f.kind is FaultKind.LEAK)
    assert leak_device == "b41-u2-leak"
    assert any("b41-u2-leak" in json.dumps(alert, ensure_ascii=False) or
               "41号楼" in json.dumps(alert, ensure_ascii=False) for alert in received), received
    # Without --alert-url too, the demo's crew on duty and team groups hear of the leak.
    inbox = [line for line in demo.stdout.splitlines() if line.startswith("📨 ")]
    assert "📨 staff-wang: [P1] 新工单 new: 漏水" in inbox, demo.stdout[-3000:]
    assert "📨 group-repair: [P1] 新工单 new: 漏水" in inbox, demo.stdout[-3000:]
