"""`estateops qr ...`: issue and revoke residents' QR links, print an estate's sheet."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from estateops.settings import Settings

T = TypeVar("T")
qr_app = typer.Typer(help="Residents' QR links: issue, revoke, print a sheet per estate.",
                     no_args_is_help=True)
Opt = typer.Option
BaseUrl = Annotated[str, Opt(help="Where residents reach the API, e.g. https://wy.example.cn")]


def _key(settings: Settings) -> bytes:
    from services.residents.signing import link_key

    auth = settings.auth
    if auth.jwt_secret is None and auth.qr_secret is None:
        typer.echo("set ESTATEOPS_AUTH__QR_SECRET (or ..._JWT_SECRET): it signs the links",
                   err=True)
        raise typer.Exit(2)
    jwt = auth.jwt_secret.get_secret_value() if auth.jwt_secret else ""
    return link_key(auth.qr_secret.get_secret_value() if auth.qr_secret else None, jwt)


def _in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from core.db import open_database
    from estateops.migrate import ensure_schema

    async def run() -> T:
        await ensure_schema(settings.effective_database_url)
        async with open_database(settings.effective_database_url) as sessions, \
                sessions() as session, session.begin():
            return await work(session)

    return asyncio.run(run())


def _url(base_url: str, key: bytes, estate_id: str, link_id: int) -> str:
    from services.residents.signing import SignedCode

    return base_url.rstrip("/") + SignedCode(estate_id, link_id).path(key)


@qr_app.command("issue")
def qr_issue(
    ctx: typer.Context,
    estate: Annotated[str, typer.Argument(help="Estate id")],
    base_url: BaseUrl = "http://127.0.0.1:8000",
    building: Annotated[str | None, Opt(help="Building code")] = None,
    unit: Annotated[str | None, Opt(help="Unit code (with --building)")] = None,
    device: Annotated[str | None, Opt(help="Device id: a charger, gate or light")] = None,
    every_unit: Annotated[bool, Opt(help="One link per unit that has none")] = False,
) -> None:
    """Issue a link (no place: the whole estate) and print its id, place and URL."""
    from services.residents import links

    settings: Settings = ctx.obj
    key, now = _key(settings), datetime.now(UTC)

    async def work(session: AsyncSession) -> list[tuple[int, str]]:
        if every_unit:
            issued = await links.issue_every_unit(session, estate, now=now)
        else:
            issued = [await links.issue(session, links.PlaceRef(estate, building, unit, device),
                                        now=now)]
        return [(link.id, link.label) for link in issued]

    try:
        issued = _in_session(settings, work)
    except links.PlaceNotFound as exc:
        typer.echo(f"qr issue: {exc}", err=True)
        raise typer.Exit(1) from exc
    for link_id, label in issued:
        typer.echo(f"{link_id}\t{label}\t{_url(base_url, key, estate, link_id)}")


@qr_app.command("revoke")
def qr_revoke(ctx: typer.Context,
              link_id: Annotated[int, typer.Argument(help="Link id (from issue)")]) -> None:
    """Refuse a link from now on (print a new one with `qr issue`)."""
    from services.residents import links

    async def work(session: AsyncSession) -> str:
        return (await links.revoke(session, link_id, now=datetime.now(UTC))).label

    try:
        label = _in_session(ctx.obj, work)
    except links.PlaceNotFound as exc:
        typer.echo(f"qr revoke: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"revoked {link_id}\t{label}")


@qr_app.command("sheet")
def qr_sheet(
    ctx: typer.Context,
    estate: Annotated[str, typer.Argument(help="Estate id")],
    out: Annotated[Path, Opt(help="The HTML file to write (print it from a browser)")],
    base_url: BaseUrl = "http://127.0.0.1:8000",
) -> None:
    """Write a printable page of the estate's active codes, the place under each."""
    from registry.tables import Estate
    from services.residents import links
    from services.residents.sheet import SheetCode, render_sheet

    settings: Settings = ctx.obj
    key = _key(settings)

    async def work(session: AsyncSession) -> str:
        found = await session.get(Estate, estate)
        active = await links.active_links(session, estate)
        return render_sheet(found.name if found else estate, [
            SheetCode(link.label, _url(base_url, key, estate, link.id)) for link in active])

    out.write_text(_in_session(settings, work), encoding="utf-8")
    typer.echo(f"wrote {out}")
