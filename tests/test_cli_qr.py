"""`estateops qr`: issue links an operator prints, revoke one, write an estate's sheet."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.db import create_engine_for, session_factory
from estateops.cli import app
from estateops.migrate import upgrade
from services.residents.signing import link_key, verify
from tests.utils.auth import JWT_SECRET
from tests.utils.estates import register_small_estate

runner = CliRunner()
QR_SECRET = "a-dedicated-qr-secret-of-enough-length-42"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'estateops.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("ESTATEOPS_DATABASE_URL", url)
    monkeypatch.setenv("ESTATEOPS_AUTH__JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("ESTATEOPS_AUTH__QR_SECRET", QR_SECRET)
    return {"url": url}


@pytest.fixture
def estate_id(env: dict[str, str]) -> str:
    async def register() -> str:
        engine = create_engine_for(env["url"])
        try:
            return await register_small_estate(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(register())


def qr(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["qr", *args])
    return result.exit_code, result.output


def test_issue_revoke_and_sheet(estate_id: str, tmp_path: Path) -> None:
    code, output = qr("issue", estate_id, "--every-unit", "--base-url", "https://wy.example.cn/")
    assert code == 0, output
    [line] = output.splitlines()
    link_id, label, url = line.split("\t")
    assert label == "41号楼2单元"
    assert url.startswith(f"https://wy.example.cn/r/{estate_id}/{link_id}.")
    key = link_key(QR_SECRET, JWT_SECRET)  # signed with the dedicated secret
    assert verify(key, estate_id, url.rsplit("/", 1)[1]) == int(link_id)
    assert verify(link_key(None, JWT_SECRET), estate_id, url.rsplit("/", 1)[1]) is None

    code, output = qr("issue", estate_id, "--device", "gate-1")
    assert code == 0, output
    sheet = tmp_path / "sheet.html"
    assert qr("sheet", estate_id, "--out", str(sheet))[0] == 0
    page = sheet.read_text(encoding="utf-8")
    assert page.count("<svg") == 2
    assert '<p class="place">41号楼2单元</p>' in page

    assert qr("revoke", link_id) == (0, f"revoked {link_id}\t41号楼2单元\n")
    assert qr("sheet", estate_id, "--out", str(sheet))[0] == 0
    assert sheet.read_text(encoding="utf-8").count("<svg") == 1


def test_an_unknown_place_is_named(estate_id: str) -> None:
    code, output = qr("issue", estate_id, "--building", "b99")
    assert code == 1
    assert "no building 'b99'" in output
