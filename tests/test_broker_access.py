"""Who may publish what, proved on the shipped broker config with accounts generated from
the registry by `estateops broker sync` (docs/security.md, "Who may publish what")."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from core.db import open_database
from estateops.cli import app
from registry.tables import Device
from tests.fixtures.secure_broker import SERVICE_PASSWORDS, SecureBroker
from tests.utils.estates import register_small_estate
from tests.utils.mqtt_probe import Probe, connect
from tests.utils.waiting import wait_until

NOT_AUTHORISED = 135
GATEWAY_CLIENT_ID = "estateops-gateway-1"
GATEWAY_SUBSCRIPTION = "$share/gateways/estates/+/+/+/+"


def two_estates(database_url: str) -> tuple[str, str]:
    """Two registered estates, each with a `leak-1` leak sensor and a `light-1` lamp."""
    async def register() -> tuple[str, str]:
        async with open_database(database_url) as sessions:
            return await register_small_estate(sessions), await register_small_estate(sessions)

    return asyncio.run(register())


def remove_device(database_url: str, estate_id: str, device_id: str) -> None:
    async def remove() -> None:
        async with open_database(database_url) as sessions, sessions.begin() as session:
            await session.execute(delete(Device).where(Device.estate_id == estate_id,
                                                       Device.device_id == device_id))

    asyncio.run(remove())


def broker_sync(database_url: str, broker: SecureBroker, export: Path) -> dict[str, str]:
    """`estateops broker sync` + reload; the passwords it issued, by username."""
    result = CliRunner().invoke(app, [
        "--database-url", database_url, "broker", "sync", "--out-dir", str(broker.auth_dir),
        "--export", str(export), "--reload-pid-file", str(broker.pid_file)])
    assert result.exit_code == 0, result.output
    if not export.exists():  # nothing new issued
        return {}
    with export.open() as rows:
        return {row["username"]: row["password"] for row in csv.DictReader(rows)}


def gateway(broker: SecureBroker) -> Probe:
    probe = connect(broker.service_port, "estateops-gateway",
                    SERVICE_PASSWORDS["estateops-gateway"], client_id=GATEWAY_CLIENT_ID,
                    ca_file=broker.ca_file, persistent=True)
    assert probe.connack is not None
    assert not probe.connack.is_failure, probe.connack
    probe.subscribe(GATEWAY_SUBSCRIPTION)  # as the gateway in compose subscribes
    return probe


def device(broker: SecureBroker, username: str, password: str, client_id: str = "") -> Probe:
    probe = connect(broker.device_tls_port, username, password, client_id=client_id,
                    ca_file=broker.ca_file)
    assert probe.connack is not None
    assert not probe.connack.is_failure, f"{username}: {probe.connack}"
    return probe


def arrived(probe: Probe, topic: str) -> bool:
    return asyncio.run(wait_until(lambda: topic in probe.received, within=10))


def test_a_device_speaks_only_for_itself(database_url: str, secure_broker: SecureBroker,
                                         tmp_path: Path) -> None:
    mine, theirs = two_estates(database_url)
    passwords = broker_sync(database_url, secure_broker, tmp_path / "issued.csv")
    assert f"{mine}/leak-1" in passwords
    listener = gateway(secure_broker)
    leak = device(secure_broker, f"{mine}/leak-1", passwords[f"{mine}/leak-1"])

    spoofed = [f"estates/{theirs}/leak_sensor/leak-1/telemetry",  # same id, other estate
               f"estates/{mine}/voice_light/leak-1/telemetry",  # same estate, other type
               f"estates/{mine}/leak_sensor/light-1/status"]  # another device's status
    codes = [leak.publish(topic) for topic in spoofed]
    own = f"estates/{mine}/leak_sensor/leak-1/telemetry"
    assert leak.publish(own) == 0

    # One connection's messages arrive in order: the spoofed ones would have come first.
    assert arrived(listener, own)
    assert listener.received == [own]
    assert codes == [NOT_AUTHORISED] * 3
    leak.close()
    listener.close()


def test_a_removed_device_can_no_longer_connect(database_url: str, secure_broker: SecureBroker,
                                                tmp_path: Path) -> None:
    mine, _ = two_estates(database_url)
    passwords = broker_sync(database_url, secure_broker, tmp_path / "first.csv")
    removed, kept = f"{mine}/leak-1", f"{mine}/light-1"
    removed_link = device(secure_broker, removed, passwords[removed])
    kept_link = device(secure_broker, kept, passwords[kept])

    remove_device(database_url, mine, "leak-1")
    assert broker_sync(database_url, secure_broker, tmp_path / "second.csv") == {}

    # The reload ends the removed device's connection, and only that one.
    assert asyncio.run(wait_until(lambda: bool(removed_link.disconnects), within=10))
    removed_link.close()
    refused = connect(secure_broker.device_tls_port, removed, passwords[removed],
                      ca_file=secure_broker.ca_file)
    assert refused.connack is not None
    assert refused.connack.is_failure
    # The others keep their connections and their passwords across syncs.
    assert kept_link.publish(f"estates/{mine}/voice_light/light-1/status") < NOT_AUTHORISED
    assert kept_link.disconnects == []
    kept_link.close()
    device(secure_broker, kept, passwords[kept]).close()


def test_nobody_takes_the_gateways_client_id(database_url: str, secure_broker: SecureBroker,
                                             tmp_path: Path) -> None:
    mine, _ = two_estates(database_url)
    passwords = broker_sync(database_url, secure_broker, tmp_path / "issued.csv")
    listener = gateway(secure_broker)

    hostile = device(secure_broker, f"{mine}/leak-1", passwords[f"{mine}/leak-1"],
                     client_id=GATEWAY_CLIENT_ID)
    plain = connect(secure_broker.device_port, f"{mine}/light-1", passwords[f"{mine}/light-1"],
                    client_id=GATEWAY_CLIENT_ID)
    assert plain.connack is not None
    assert not plain.connack.is_failure
    # The service listener knows no device, and the device listeners no service.
    for port, user, password in [
            (secure_broker.service_port, f"{mine}/leak-1", passwords[f"{mine}/leak-1"]),
            (secure_broker.device_tls_port, "estateops-api", SERVICE_PASSWORDS["estateops-api"])]:
        stranger = connect(port, user, password, client_id=GATEWAY_CLIENT_ID,
                           ca_file=secure_broker.ca_file)
        assert stranger.connack is not None
        assert stranger.connack.is_failure, user

    own = f"estates/{mine}/leak_sensor/leak-1/telemetry"
    assert hostile.publish(own) == 0
    assert arrived(listener, own)
    assert listener.disconnects == []
    for probe in (hostile, plain, listener):
        probe.close()


@pytest.mark.parametrize("extra", [[], ["--export", "unused.csv"]])
def test_sync_refuses_to_issue_passwords_nobody_gets(
    database_url: str, tmp_path: Path, extra: list[str]
) -> None:
    two_estates(database_url)
    args = ["--database-url", database_url, "broker", "sync", "--out-dir", str(tmp_path / "a")]
    result = CliRunner().invoke(app, args + [e.replace("unused", str(tmp_path / "x"))
                                             for e in extra])
    if extra:
        assert result.exit_code == 0, result.output
        assert (tmp_path / "x.csv").stat().st_mode & 0o077 == 0
        assert "8 new passwords" in result.output
    else:
        assert result.exit_code == 2
        assert "--export" in result.output
        assert not (tmp_path / "a").exists()
