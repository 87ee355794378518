"""`estateops staff add` and `staff list`, on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.db import open_database
from estateops.cli import app
from services.auth.accounts import authenticate
from services.auth.errors import NotAuthenticated
from services.auth.principal import Principal, Role
from simulators.estate import build_estate, write_estate_yaml

runner = CliRunner()
PASSWORD = "a long enough password"


@pytest.fixture
def database(empty_database_url: str, tmp_path: Path) -> str:
    """A database with the estate `longdi`, made through the CLI itself."""
    estate_file = tmp_path / "estate.yaml"
    write_estate_yaml(build_estate(buildings=1), estate_file)
    result = runner.invoke(app, ["--database-url", empty_database_url, "registry", "import",
                                 str(estate_file)])
    assert result.exit_code == 0, result.output
    return empty_database_url


def staff(database: str, *args: str, password: str = PASSWORD) -> tuple[int, str]:
    result = runner.invoke(app, ["--database-url", database, "staff", *args],
                           input=f"{password}\n")
    return result.exit_code, result.output


async def _login(database: str, username: str, password: str) -> Principal:
    async with open_database(database) as sessions, sessions() as session:
        return await authenticate(session, username=username, password=password)


def test_added_staff_can_log_in_and_is_listed(database: str) -> None:
    added = staff(database, "add", "li.wei", "--role", "technician", "--estate", "longdi",
                  "--team", "repair", "--display-name", "李伟", "--password-stdin")
    boss = staff(database, "add", "boss", "--role", "admin", "--password-stdin")

    assert added[0] == 0, added[1]
    assert "added technician li.wei" in added[1]
    assert boss[0] == 0, boss[1]
    principal = asyncio.run(_login(database, "li.wei", PASSWORD))
    assert (principal.role, principal.estates, principal.display_name) == (
        Role.TECHNICIAN, frozenset({"longdi"}), "李伟")
    with pytest.raises(NotAuthenticated):
        asyncio.run(_login(database, "li.wei", "not the password"))
    code, listing = staff(database, "list")
    assert code == 0
    assert listing.splitlines() == [
        "boss                 admin       -         *",
        "li.wei               technician  repair    longdi",
    ]


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "dispatcher", "--estate", "nowhere"], "no such estate: nowhere"),
    (["--role", "viewer"], "a viewer needs at least one estate"),
    (["--role", "chef", "--estate", "longdi"], "chef"),
], ids=["unknown-estate", "no-estate", "unknown-role"])
def test_bad_staff_is_refused_with_the_reason(database: str, args: list[str],
                                              message: str) -> None:
    code, output = staff(database, "add", "zhang", *args, "--password-stdin")

    assert code == 2
    assert message in output


def test_short_password_and_duplicate_name_are_refused(database: str) -> None:
    short = staff(database, "add", "wang", "--role", "admin", "--password-stdin",
                  password="1234")
    first = staff(database, "add", "wang", "--role", "admin", "--password-stdin")
    again = staff(database, "add", "wang", "--role", "admin", "--password-stdin")

    assert short[0] == 2
    assert "at least 8 characters" in short[1]
    assert first[0] == 0
    assert again[0] == 2
    assert "'wang' already exists" in again[1]


def test_serve_refuses_to_start_without_a_jwt_secret(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESTATEOPS_AUTH__JWT_SECRET", raising=False)

    result = runner.invoke(app, ["--data-dir", str(tmp_path), "serve", "--port", "1"])

    assert result.exit_code == 2
    assert "ESTATEOPS_AUTH__JWT_SECRET" in result.output


def test_a_zone_manager_added_by_zone_sees_the_zones_estates(database: str,
                                                              tmp_path: Path) -> None:
    zoned = tmp_path / "zoned.yaml"
    zoned.write_text("zones: [{id: xiangfang, name: 香坊片区}]\n"
                     "estates: [{id: hexing, name: 和兴小区, zone: xiangfang}]\n",
                     encoding="utf-8")
    result = runner.invoke(app, ["--database-url", database, "registry", "import", str(zoned)])
    assert result.exit_code == 0, result.output

    code, output = staff(database, "add", "zhao", "--role", "viewer", "--zone", "xiangfang",
                         "--password-stdin")

    assert code == 0, output
    assert asyncio.run(_login(database, "zhao", PASSWORD)).estates == {"hexing"}
    assert "hexing" in output
    assert "longdi" not in output
