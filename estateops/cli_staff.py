"""`estateops staff ...`: staff accounts of the API, and the demo's admin account."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated, Any

import typer

from core.vocabulary import Team
from estateops.settings import Settings
from services.auth.principal import Role

staff_app = typer.Typer(help="Staff accounts: who logs in to the API, with which role and estates.",
                        no_args_is_help=True)
Opt = typer.Option
DEMO_ADMIN = "admin"


def _database_url(ctx: typer.Context) -> str:
    settings: Settings = ctx.obj
    return settings.effective_database_url


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


async def _add_staff(database_url: str, new: Any) -> Any:
    from core.db import open_database
    from estateops.migrate import ensure_schema
    from services.auth.accounts import create_staff

    await ensure_schema(database_url)
    async with open_database(database_url) as sessions, sessions() as session, session.begin():
        return await create_staff(session, new)


@staff_app.command("add")
def staff_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[Role, Opt(help="admin sees every estate; the others only theirs")],
    estate: Annotated[list[str] | None, Opt(help="Estate id in scope (repeatable)")] = None,
    zone: Annotated[list[str] | None, Opt(help="Zone id: every estate of it in scope "
                                               "(repeatable)")] = None,
    team: Annotated[Team | None, Opt(help="Team whose work a technician may act on")] = None,
    display_name: Annotated[str | None, Opt(help="Name shown to people [username]")] = None,
    apprise_url: Annotated[str | None, Opt(help="Where this person's alerts go")] = None,
    on_duty: Annotated[bool, Opt(help="Receives the team's alerts now")] = False,
    password_stdin: Annotated[bool, Opt(help="Read the password from stdin")] = False,
) -> None:
    """Create a staff account; the password is prompted for unless --password-stdin."""
    from services.auth.accounts import AccountError, NewStaff
    from services.auth.passwords import WeakPassword, hash_password

    try:
        new = NewStaff(username=username, role=role, team=team, display_name=display_name,
                       password_hash=hash_password(_read_password(password_stdin)),
                       estates=frozenset(estate or ()), zones=frozenset(zone or ()),
                       apprise_url=apprise_url, on_duty=on_duty)
        principal = asyncio.run(_add_staff(_database_url(ctx), new))
    except (AccountError, WeakPassword) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    scope = ", ".join(sorted(principal.estates)) or "every estate"
    typer.echo(f"added {principal.role.value} {principal.username} (id {principal.staff_id}): "
               f"{scope}")


async def _staff_rows(database_url: str) -> Any:
    from core.db import open_database
    from services.auth.accounts import list_staff

    async with open_database(database_url) as sessions, sessions() as session:
        return await list_staff(session)


@staff_app.command("list")
def staff_list(ctx: typer.Context) -> None:
    """Every staff account with its role, team and estates."""
    for row in asyncio.run(_staff_rows(_database_url(ctx))):
        estates = ",".join(row.estates) or ("*" if row.role is Role.ADMIN else "-")
        flags = " ".join(flag for flag, on in (("on-duty", row.on_duty),
                                               ("inactive", not row.active)) if on)
        typer.echo(f"{row.username:<20} {row.role.value:<11} {row.team or '-':<9} "
                   f"{estates} {flags}".rstrip())


async def ensure_demo_admin(database_url: str, password: str) -> None:
    """The demo's `admin` account, created or given `password`."""
    from core.db import open_database
    from estateops.migrate import ensure_schema
    from services.auth.accounts import NewStaff, create_staff, set_password
    from services.auth.passwords import hash_password_async

    password_hash = await hash_password_async(password)
    await ensure_schema(database_url)
    async with open_database(database_url) as sessions, sessions() as session, session.begin():
        if not await set_password(session, username=DEMO_ADMIN, password_hash=password_hash):
            await create_staff(session, NewStaff(username=DEMO_ADMIN, role=Role.ADMIN,
                                                 password_hash=password_hash,
                                                 display_name="Demo admin"))


async def _change(database_url: str, username: str, changes: Any) -> Any:
    from core.db import open_database
    from services.auth.accounts import find_staff, update_staff

    async with open_database(database_url) as sessions, sessions() as session, session.begin():
        return await update_staff(session, await find_staff(session, username=username), changes)


def _apply(ctx: typer.Context, username: str, changes: Any) -> Any:
    from services.auth.accounts import AccountError

    try:
        return asyncio.run(_change(_database_url(ctx), username, changes))
    except AccountError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@staff_app.command("edit")
def staff_edit(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[Role | None, Opt(help="New role")] = None,
    estate: Annotated[list[str] | None, Opt(help="Estates in scope, replacing the old ones "
                                                 "(repeatable)")] = None,
    team: Annotated[Team | None, Opt(help="Team")] = None,
    no_team: Annotated[bool, Opt(help="Belong to no team")] = False,
    display_name: Annotated[str | None, Opt(help="Name shown to people")] = None,
    apprise_url: Annotated[str | None, Opt(help="Personal alerts ('' for none)")] = None,
    on_duty: Annotated[bool | None, Opt("--on-duty/--off-duty",
                                        help="On duty by hand, besides the rota")] = None,
) -> None:
    """Change a staff member's role, estates, team, name, alert address or duty."""
    from services.auth.accounts import StaffChanges

    row = _apply(ctx, username, StaffChanges(
        role=role, team=team, clear_team=no_team, display_name=display_name,
        estates=None if estate is None else frozenset(estate), apprise_url=apprise_url,
        on_duty=on_duty))
    typer.echo(f"{row.username}: {row.role.value}, team {row.team or '-'}, "
               f"estates {','.join(row.estates) or '*'}")


@staff_app.command("disable")
def staff_disable(ctx: typer.Context, username: Annotated[str, typer.Argument()]) -> None:
    """Disable an account: no log-in, and its tokens stop working at once."""
    from services.auth.accounts import StaffChanges

    _apply(ctx, username, StaffChanges(active=False))
    typer.echo(f"disabled {username}")


@staff_app.command("enable")
def staff_enable(ctx: typer.Context, username: Annotated[str, typer.Argument()]) -> None:
    """Enable a disabled account again."""
    from services.auth.accounts import StaffChanges

    _apply(ctx, username, StaffChanges(active=True))
    typer.echo(f"enabled {username}")


async def _reset(database_url: str, username: str, password_hash: str) -> bool:
    from core.db import open_database
    from services.auth.accounts import set_password

    async with open_database(database_url) as sessions, sessions() as session, session.begin():
        return await set_password(session, username=username, password_hash=password_hash)


@staff_app.command("reset-password")
def staff_reset_password(
    ctx: typer.Context, username: Annotated[str, typer.Argument()],
    password_stdin: Annotated[bool, Opt(help="Read the password from stdin")] = False,
) -> None:
    """Give a staff member a new password (prompted for unless --password-stdin)."""
    from services.auth.passwords import WeakPassword, hash_password

    try:
        password_hash = hash_password(_read_password(password_stdin))
    except WeakPassword as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not asyncio.run(_reset(_database_url(ctx), username, password_hash)):
        typer.echo(f"error: no staff member {username!r}", err=True)
        raise typer.Exit(2)
    typer.echo(f"new password set for {username}")
