"""`estateops zigbee2mqtt` and `estateops ocpp` run on the one settings object, their flags
over the environment."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from estateops.cli import app
from estateops.settings import Settings

runner = CliRunner()


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Settings, int | None]]:
    """What the bridge commands would run with, instead of running them."""
    calls: list[tuple[Settings, int | None]] = []

    async def run(settings: Settings, metrics_port: int | None = None) -> None:
        calls.append((settings, metrics_port))

    monkeypatch.setattr("estateops.run_bridges.run_ocpp", run)
    monkeypatch.setattr("estateops.run_bridges.run_zigbee2mqtt", run)
    return calls


def test_ocpp_flags_override_the_environment(ran: list[tuple[Settings, int | None]],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESTATEOPS_BRIDGES__OCPP__HOST", "10.0.0.5")
    monkeypatch.setenv("ESTATEOPS_BRIDGES__OCPP__HEARTBEAT_INTERVAL_S", "120")
    result = runner.invoke(app, ["ocpp", "--port", "9444", "--metrics-port", "9102"])
    assert result.exit_code == 0, result.output
    [(settings, metrics_port)] = ran
    ocpp = settings.bridges.ocpp
    assert (ocpp.host, ocpp.port, ocpp.heartbeat_interval_s, metrics_port) == (
        "10.0.0.5", 9444, 120, 9102)


def test_zigbee2mqtt_takes_its_base_topic(ran: list[tuple[Settings, int | None]]) -> None:
    result = runner.invoke(app, ["zigbee2mqtt", "--base-topic", "z2m-estate"])
    assert result.exit_code == 0, result.output
    [(settings, metrics_port)] = ran
    assert (settings.bridges.zigbee2mqtt.base_topic, metrics_port) == ("z2m-estate", None)
