"""The administration commands (staff edit/disable/reset, rota, routes with a real test,
contacts, policy, overrides), on both databases, through the `estateops` command itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from core.db import open_database
from core.vocabulary import Category, Priority, Team
from estateops.cli import app
from services.auth.accounts import authenticate
from services.auth.errors import NotAuthenticated
from services.workorders.alert import Alert, AlertKind
from services.workorders.model import Status
from services.workorders.recipients import route_alert
from tests.services.auth.test_cli_staff import PASSWORD, database, staff
from tests.services.workorders.webhook import Webhook, running_webhook

__all__ = ["database"]  # the fixture, shared with the staff tests
runner = CliRunner()
NEW_PASSWORD = "another long password"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with running_webhook() as hook:
        yield hook


def cli(database: str, *args: str, given: str = "") -> tuple[int, str]:
    result = runner.invoke(app, ["--database-url", database, *args], input=given)
    return result.exit_code, result.output


def ok(database: str, *args: str, given: str = "") -> str:
    code, output = cli(database, *args, given=given)
    assert code == 0, output
    return output


async def _can_log_in(database: str, username: str, password: str) -> bool:
    async with open_database(database) as sessions, sessions() as session:
        try:
            await authenticate(session, username=username, password=password)
        except NotAuthenticated:
            return False
        return True


async def _targets(database: str, at: datetime) -> list[str]:
    alert = Alert(kind=AlertKind.CREATED, work_order_id=1, estate_id="longdi",
                  priority=Priority.P1, team=Team.REPAIR, category=Category.SIMPLE,
                  status=Status.OPEN, title_en="Water leak", title_zh="漏水", location=None,
                  building_id=None, unit_id=None, device_pk=None, rule="water_leak",
                  assignee_id=None, level=0, at=at)
    async with open_database(database) as sessions, sessions() as session:
        return (await route_alert(session, alert)).staff_urls


def test_staff_are_edited_disabled_enabled_and_given_a_new_password(database: str) -> None:
    staff(database, "add", "li.wei", "--role", "technician", "--estate", "longdi",
          "--password-stdin")
    edited = ok(database, "staff", "edit", "li.wei", "--role", "dispatcher", "--team", "repair")
    assert "li.wei: dispatcher, team repair, estates longdi" in edited

    ok(database, "staff", "disable", "li.wei")
    assert not asyncio.run(_can_log_in(database, "li.wei", PASSWORD))
    assert "inactive" in ok(database, "staff", "list")
    ok(database, "staff", "enable", "li.wei")
    ok(database, "staff", "reset-password", "li.wei", "--password-stdin",
       given=f"{NEW_PASSWORD}\n")
    assert asyncio.run(_can_log_in(database, "li.wei", NEW_PASSWORD))
    assert not asyncio.run(_can_log_in(database, "li.wei", PASSWORD))
    assert cli(database, "staff", "disable", "nobody")[0] == 2
    assert cli(database, "staff", "reset-password", "nobody", "--password-stdin",
               given=f"{NEW_PASSWORD}\n")[0] == 2


def test_a_rota_shift_makes_its_staff_member_an_alert_recipient(database: str) -> None:
    staff(database, "add", "wang", "--role", "technician", "--estate", "longdi",
          "--apprise-url", "json://127.0.0.1:9/wang", "--password-stdin")
    start = datetime(2026, 12, 7, 20, 0)  # Asia/Shanghai, the estate's zone
    added = ok(database, "rota", "add", "wang", "--estate", "longdi", "--team", "repair",
               "--start", start.isoformat(), "--hours", "12")
    shift_id = added.split()[1].rstrip(":")
    at_night = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # 21:00 local
    assert asyncio.run(_targets(database, at_night)) == ["json://127.0.0.1:9/wang"]
    assert asyncio.run(_targets(database, at_night - timedelta(hours=2))) == []
    ok(database, "rota", "remove", shift_id)
    assert asyncio.run(_targets(database, at_night)) == []
    assert cli(database, "rota", "add", "wang", "--estate", "longdi", "--team", "repair",
               "--start", "tonight")[0] == 2


def test_a_route_is_added_tested_for_real_listed_and_removed(database: str,
                                                             webhook: Webhook) -> None:
    added = ok(database, "routes", "add", "longdi", "repair", webhook.url("repair-bot"))
    route_id = added.split()[1].rstrip(":")
    assert webhook.url("repair-bot") in ok(database, "routes", "list", "--estate", "longdi")
    assert f"route {route_id}: sent" in ok(database, "routes", "test", route_id)
    [message] = webhook.messages("repair-bot")
    assert "测试" in message["title"]
    assert cli(database, "routes", "add", "longdi", "repair", "nope://x")[0] == 2
    assert cli(database, "routes", "add", "atlantis", "repair", webhook.url("x"))[0] == 2
    ok(database, "routes", "remove", route_id)
    assert cli(database, "routes", "test", route_id)[0] == 2


def test_a_failed_route_test_exits_1(database: str) -> None:
    added = ok(database, "routes", "add", "longdi", "safety", "json://127.0.0.1:9/closed")
    code, output = cli(database, "routes", "test", added.split()[1].rstrip(":"))
    assert code == 1, output


def test_resident_contacts_per_unit(database: str) -> None:
    added = ok(database, "contacts", "add", "longdi", "b1", "u2", "--name", "业主 王女士",
               "--phone", "13800000000")
    assert "业主 王女士 13800000000" in ok(database, "contacts", "list", "--estate", "longdi")
    assert cli(database, "contacts", "add", "longdi", "b9", "u9", "--name", "x")[0] == 2
    ok(database, "contacts", "remove", added.split()[1].rstrip(":"))
    assert ok(database, "contacts", "list") == ""


def test_the_estate_deadline_policy_is_set_shown_and_restored(database: str) -> None:
    shown = ok(database, "policy", "set", "longdi", "ack_s=120")
    assert "ack_s           120 s  (estate)" in shown
    assert "simple_s       1800 s\n" in shown
    bad = cli(database, "policy", "set", "longdi", "ack_minutes=5")
    assert bad[0] == 2
    assert "ack_minutes" in bad[1]
    assert "(estate)" not in ok(database, "policy", "set", "longdi")


def test_rule_overrides_are_set_checked_and_removed(database: str) -> None:
    done = ok(database, "overrides", "set", "longdi", "ev_charger", "overheating", "value=65",
              "for_s=30")
    assert 'longdi ev_charger/overheating: on {"value": 65, "for_s": 30.0}' in done
    ok(database, "overrides", "set", "longdi", "leak_sensor", "low_battery", "--disabled")
    listing = ok(database, "overrides", "list")
    assert "low_battery            off {}" in listing
    assert cli(database, "overrides", "set", "longdi", "ev_charger", "overheating",
               "count=3")[0] == 2
    assert cli(database, "overrides", "set", "longdi", "ev_charger", "melting")[0] == 2
    ok(database, "overrides", "remove", "longdi", "ev_charger", "overheating")
    assert "overheating" not in ok(database, "overrides", "list")
