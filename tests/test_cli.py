"""The `estateops` command line: what an operator types, and what it answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from estateops import cli
from estateops.cli import app
from estateops.settings import Settings
from simulators.estate import build_estate, write_estate_yaml
from tests.fixtures.mosquitto import Broker
from tests.fixtures.processes import free_port
from tests.simulators.support import Recorder, data_messages

runner = CliRunner()
DEMO_PASSWORD = "demo-admin-password"
BAD_PROFILE = """\
device_type: fridge
name: {en: Fridge, zh: 冰箱}
reporting_interval_s: 60
measurement: fridge
telemetry:
  temperature_c: {type: float, colour: blue}
"""


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """Every Settings the CLI builds, in order, from an environment without ESTATEOPS_*."""
    for key in [key for key in os.environ if key.startswith("ESTATEOPS_")]:
        monkeypatch.delenv(key)
    found: list[Settings] = []
    validated = cli._validated

    def recording(flags: dict[str, Any]) -> Settings:
        found.append(validated(flags))
        return found[-1]

    monkeypatch.setattr(cli, "_validated", recording)
    return found


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """The Settings that `gateway`, `serve` and `demo` would run with (they do not run)."""
    seen: list[Settings] = []

    async def run(settings: Settings, *_: object) -> None:
        seen.append(settings)

    async def no_admin(*_: object) -> None:
        pass

    monkeypatch.setattr("estateops.run.run_gateway", run)
    monkeypatch.setattr("estateops.run.run_api", run)
    monkeypatch.setattr("estateops.demo.run_demo", run)
    monkeypatch.setattr(cli, "ensure_demo_admin", no_admin)
    return seen


@pytest.fixture
def bad_profile_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "fridge.yaml").write_text(BAD_PROFILE, encoding="utf-8")
    return folder


def test_profiles_check_lists_the_device_types() -> None:
    result = runner.invoke(app, ["profiles", "check"])
    assert result.exit_code == 0, result.output
    assert "leak_sensor" in result.output
    assert "barrier_gate" in result.output


@pytest.mark.parametrize("command", [["profiles", "check"], ["gateway"], ["serve"]])
def test_a_bad_profile_stops_start_up_naming_file_and_line(
        bad_profile_dir: Path, tmp_path: Path, command: list[str]) -> None:
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "--profile-dir",
                                 str(bad_profile_dir), *command])
    assert result.exit_code == 2
    assert f"{bad_profile_dir / 'fridge.yaml'}:6" in result.output
    assert "colour" in result.output


def test_command_flags_build_new_settings_over_env_and_global_flags(
        built: list[Settings], ran: list[Settings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESTATEOPS_API__HOST", "0.0.0.0")
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "--mqtt-url",
                                 "mqtt://broker.example:1884", "serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    [given, command] = built
    assert ran == [command]
    assert (command.api.host, command.api.port) == ("0.0.0.0", 8123)
    assert (command.data_dir, command.mqtt.port) == (tmp_path, 1884)
    assert (given.api.host, given.api.port) == ("0.0.0.0", 8000)  # never changed


def test_gateway_metrics_port_is_a_setting_of_its_own_settings(
        built: list[Settings], ran: list[Settings]) -> None:
    result = runner.invoke(app, ["gateway", "--metrics-port", "9464"])
    assert result.exit_code == 0, result.output
    [given, command] = built
    assert ran == [command]
    assert command.gateway.metrics_port == 9464
    assert given.gateway.metrics_port is None


def test_a_command_without_flags_of_its_own_runs_on_the_global_settings(
        built: list[Settings], ran: list[Settings]) -> None:
    result = runner.invoke(app, ["--log-level", "WARNING", "gateway"])
    assert result.exit_code == 0, result.output
    assert ran == built
    assert built[0].log_level == "WARNING"


def test_demo_makes_a_jwt_secret_only_when_none_is_configured(
        built: list[Settings], ran: list[Settings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = runner.invoke(app, ["--data-dir", str(tmp_path), "demo", "--port", "8124",
                                "--admin-password", DEMO_PASSWORD])
    configured = "a-configured-secret-of-at-least-32-chars"
    monkeypatch.setenv("ESTATEOPS_AUTH__JWT_SECRET", configured)
    second = runner.invoke(app, ["--data-dir", str(tmp_path), "demo"])
    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    generated, kept = ran
    assert built[0].auth.jwt_secret is None  # the global settings stay as configured
    assert generated.auth.jwt_secret is not None
    assert len(generated.auth.jwt_secret.get_secret_value()) >= 32
    assert generated.api.port == 8124
    assert kept.auth.jwt_secret is not None
    assert kept.auth.jwt_secret.get_secret_value() == configured


def test_simulate_publishes_to_the_broker_of_the_settings(mosquitto: Broker) -> None:
    estate = f"cli{uuid.uuid4().hex[:8]}"
    recorder = Recorder(mosquitto.host, mosquitto.port, f"estates/{estate}/#")
    try:
        result = runner.invoke(app, ["--mqtt-url", mosquitto.url, "simulate", "--buildings", "1",
                                     "--estate-id", estate, "--speed", "600", "--no-faults",
                                     "--max-messages", "20"])
        assert result.exit_code == 0, result.output
        assert recorder.wait_for(lambda got: len(data_messages(got)) >= 20)
    finally:
        recorder.close()


def test_registry_import_twice_updates_in_place(tmp_path: Path) -> None:
    estate_file = tmp_path / "estate.yaml"
    write_estate_yaml(build_estate(buildings=2), estate_file)
    database = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    first = runner.invoke(app, ["--database-url", database, "registry", "import",
                                str(estate_file)])
    second = runner.invoke(app, ["--database-url", database, "registry", "import",
                                 str(estate_file)])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert first.output != second.output  # first creates, second finds everything unchanged


def test_registry_import_of_a_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    estate_file = tmp_path / "estate.yaml"
    estate_file.write_text("estates:\n  - id: Bad Id\n    name: x\n", encoding="utf-8")
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "registry", "import",
                                 str(estate_file)])
    assert result.exit_code == 2
    assert "estate.yaml" in result.output


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_demo_starts_serves_live_state_and_stops_cleanly(tmp_path: Path,
                                                         stop_signal: signal.Signals) -> None:
    api_port, mqtt_port = free_port(), free_port()
    log = tmp_path / "demo.log"
    command = [sys.executable, "-m", "estateops", "--data-dir", str(tmp_path / "var"), "demo",
               "--buildings", "1", "--speed", "60", "--port", str(api_port),
               "--mqtt-port", str(mqtt_port), "--admin-password", DEMO_PASSWORD]
    with log.open("wb") as out:
        demo = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        devices = _wait_for_live_devices(f"http://127.0.0.1:{api_port}", demo, log)
        demo.send_signal(stop_signal)
        exit_code = demo.wait(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
    output = log.read_text(errors="replace")
    assert exit_code == 0, output[-3000:]
    assert "EstateOps demo is running" in output
    assert any(device["last_telemetry"] for device in devices)
    assert all(device["estate_id"] == "longdi" for device in devices)


def _demo_token(api: str) -> str:
    response = httpx.post(f"{api}/api/v1/auth/token", timeout=10,
                          data={"username": "admin", "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _wait_for_live_devices(api: str, demo: subprocess.Popen[bytes],
                           log: Path) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    headers: dict[str, str] = {}
    while time.monotonic() < deadline:
        assert demo.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            headers = headers or {"Authorization": f"Bearer {_demo_token(api)}"}
            body = httpx.get(f"{api}/api/v1/devices", params={"limit": 500}, timeout=2,
                             headers=headers).json()
        except httpx.HTTPError:
            body = {"data": []}
        devices: list[dict[str, object]] = body["data"]
        if any(device["last_telemetry"] for device in devices):
            return devices
        time.sleep(0.5)
    pytest.fail("no simulated device reached the API: " + log.read_text(errors="replace")[-3000:])
