"""`estateops rota|routes|contacts|policy|overrides ...`: the administration of the admin
page, from a shell. Each command is one transaction through the same service functions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Team
from estateops.settings import Settings

T = TypeVar("T")
Opt = typer.Option
Arg = typer.Argument

rota_app = typer.Typer(help="The duty rota: who is on duty for which team of an estate, when.",
                       no_args_is_help=True)
routes_app = typer.Typer(help="Alert routes: a team's group bot or mailbox per estate "
                              "(any apprise URL).", no_args_is_help=True)
contacts_app = typer.Typer(help="Resident contacts per unit (told of a leak at home).",
                           no_args_is_help=True)
policy_app = typer.Typer(help="An estate's 5341 deadline numbers, in seconds.",
                         no_args_is_help=True)
overrides_app = typer.Typer(help="An estate's overrides of device-profile rules.",
                            no_args_is_help=True)
ADMIN_APPS = {"rota": rota_app, "routes": routes_app, "contacts": contacts_app,
              "policy": policy_app, "overrides": overrides_app}


def _in_session(ctx: typer.Context, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction; a refused change exits 2 with the reason."""
    from core.db import open_database
    from estateops.migrate import ensure_schema
    from services.auth.accounts import AccountError
    from services.workorders.errors import WorkOrderError

    settings: Settings = ctx.obj
    url = settings.effective_database_url

    async def run() -> T:
        await ensure_schema(url)
        async with open_database(url) as sessions, sessions() as session, session.begin():
            return await work(session)

    try:
        return asyncio.run(run())
    except (WorkOrderError, AccountError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except IntegrityError as exc:  # a foreign key: an estate or unit that does not exist
        typer.echo(f"error: no such estate or unit ({exc.orig})", err=True)
        raise typer.Exit(2) from exc


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


# ---- rota --------------------------------------------------------------------------------

async def _local_zone(session: AsyncSession, estate_id: str) -> ZoneInfo:
    from registry.tables import Estate

    estate = await session.get(Estate, estate_id)
    return ZoneInfo(estate.timezone if estate is not None else "Asia/Shanghai")


def _moment(text: str | None, zone: ZoneInfo) -> datetime:
    if text is None:
        return datetime.now(zone)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: expected e.g. 2026-12-07T20:00") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


@rota_app.command("add")
def rota_add(
    ctx: typer.Context,
    username: Annotated[str, Arg(help="Staff member on duty")],
    estate: Annotated[str, Opt(help="Estate id")],
    team: Annotated[Team | None, Opt(help="Team whose alerts they get [the whole estate, "
                                          "as a dispatcher]")] = None,
    start: Annotated[str | None, Opt(help="2026-12-07T20:00 (estate's local time) [now]")] = None,
    hours: Annotated[float, Opt(min=0.25, help="Length of the shift")] = 12.0,
) -> None:
    """Put a staff member on duty for a team of an estate for one shift."""
    from services.auth.accounts import find_staff
    from services.workorders.rota import add_shift

    async def work(session: AsyncSession) -> str:
        staff = await find_staff(session, username=username)
        starts = _moment(start, await _local_zone(session, estate))
        shift = await add_shift(session, staff_id=staff.id, estate_id=estate, team=team,
                                starts_at=starts, ends_at=starts + timedelta(hours=hours))
        return f"shift {shift.id}: {username} on duty for {team or 'the estate'} in {estate}, " \
               f"{starts:%Y-%m-%d %H:%M} + {hours:g} h"

    typer.echo(_in_session(ctx, work))


@rota_app.command("list")
def rota_list(ctx: typer.Context,
              estate: Annotated[str | None, Opt(help="Only this estate")] = None) -> None:
    """Shifts not over yet, in start order (times in the estate's zone)."""
    from services.auth.tables import Staff
    from services.workorders.rota import list_shifts

    async def work(session: AsyncSession) -> list[str]:
        lines = []
        for shift in await list_shifts(session, estate_id=estate, ending_after=datetime.now()
                                       .astimezone()):
            zone = await _local_zone(session, shift.estate_id)
            staff = await session.get(Staff, shift.staff_id)
            lines.append(f"{shift.id:>4} {shift.estate_id:<10} {shift.team or '*':<9} "
                         f"{staff.username if staff else '?':<16} "
                         f"{shift.starts_at.astimezone(zone):%Y-%m-%d %H:%M} → "
                         f"{shift.ends_at.astimezone(zone):%Y-%m-%d %H:%M}")
        return lines

    for line in _in_session(ctx, work):
        typer.echo(line)


@rota_app.command("remove")
def rota_remove(ctx: typer.Context, shift_id: Annotated[int, Arg()]) -> None:
    """Take a shift off the rota."""
    from services.workorders.rota import remove_shift

    if not _in_session(ctx, lambda session: remove_shift(session, shift_id)):
        raise _fail(f"no shift {shift_id}")
    typer.echo(f"removed shift {shift_id}")


# ---- alert routes ------------------------------------------------------------------------

@routes_app.command("add")
def routes_add(ctx: typer.Context, estate: Annotated[str, Arg(help="Estate id")],
               team: Annotated[Team, Arg()],
               apprise_url: Annotated[str, Arg(help="wecombot://KEY, dingtalk://TOKEN, "
                                                    "feishu://TOKEN, mailto://..., json://...")]
               ) -> None:
    """Send a team's alerts of an estate to an apprise URL too."""
    from services.workorders.alert_routes import add_route

    route = _in_session(ctx, lambda session: add_route(
        session, estate_id=estate, team=team, apprise_url=apprise_url))
    typer.echo(f"route {route.id}: {estate}/{team.value} → {apprise_url}")


@routes_app.command("list")
def routes_list(ctx: typer.Context,
                estate: Annotated[str | None, Opt(help="Only this estate")] = None) -> None:
    """Every alert route: id, estate, team, URL."""
    from services.workorders.alert_routes import list_routes

    for route in _in_session(ctx, lambda session: list_routes(session, estate_id=estate)):
        typer.echo(f"{route.id:>4} {route.estate_id:<10} {route.team.value:<9} "
                   f"{route.apprise_url}")


@routes_app.command("remove")
def routes_remove(ctx: typer.Context, route_id: Annotated[int, Arg()]) -> None:
    from services.workorders.alert_routes import remove_route

    if not _in_session(ctx, lambda session: remove_route(session, route_id)):
        raise _fail(f"no alert route {route_id}")
    typer.echo(f"removed route {route_id}")


@routes_app.command("test")
def routes_test(ctx: typer.Context, route_id: Annotated[int, Arg()]) -> None:
    """Really send a test message to a route through apprise; exit 1 if it did not go."""
    from services.workorders.alert_routes import get_route, send_test

    route = _in_session(ctx, lambda session: get_route(session, route_id))
    if route is None:
        raise _fail(f"no alert route {route_id}")
    result = asyncio.run(send_test(route.apprise_url, estate_id=route.estate_id,
                                   team=route.team))
    typer.echo(f"route {route_id}: {result.detail}")
    if not result.sent:
        raise typer.Exit(1)


# ---- resident contacts -------------------------------------------------------------------

@contacts_app.command("add")
def contacts_add(
    ctx: typer.Context,
    estate: Annotated[str, Arg(help="Estate id")],
    building: Annotated[str, Arg(help="Building code, e.g. b41")],
    unit: Annotated[str, Arg(help="Unit code, e.g. u2")],
    name: Annotated[str, Opt(help="Who: 业主 王女士")],
    phone: Annotated[str | None, Opt()] = None,
    apprise_url: Annotated[str | None, Opt(help="Where their messages go")] = None,
) -> None:
    """Add a resident contact to a unit."""
    from registry.queries import find_unit
    from services.workorders.contacts import add_contact
    from services.workorders.errors import InvalidReference

    async def work(session: AsyncSession) -> int:
        unit_id = await find_unit(session, estate, building, unit)
        if unit_id is None:
            raise InvalidReference("unit", f"{estate}/{building}/{unit}", "no such unit")
        return (await add_contact(session, unit_id=unit_id, name=name, phone=phone,
                                  apprise_url=apprise_url)).id

    typer.echo(f"contact {_in_session(ctx, work)}: {name} in {estate}/{building}/{unit}")


@contacts_app.command("list")
def contacts_list(ctx: typer.Context,
                  estate: Annotated[str | None, Opt(help="Only this estate")] = None) -> None:
    from services.workorders.contacts import list_contacts

    for contact in _in_session(ctx, lambda session: list_contacts(session, estate_id=estate)):
        typer.echo(f"{contact.id:>4} unit {contact.unit_id:<5} {contact.name} "
                   f"{contact.phone or '-'} {contact.apprise_url or '-'}")


@contacts_app.command("remove")
def contacts_remove(ctx: typer.Context, contact_id: Annotated[int, Arg()]) -> None:
    from services.workorders.contacts import remove_contact

    if not _in_session(ctx, lambda session: remove_contact(session, contact_id)):
        raise _fail(f"no resident contact {contact_id}")
    typer.echo(f"removed contact {contact_id}")


# ---- deadline policy and rule overrides --------------------------------------------------

def _pairs(values: list[str]) -> dict[str, Any]:
    """key=value words; a value is read as JSON when it can be (65, true, {"ebike": 60})."""
    found: dict[str, Any] = {}
    for word in values:
        key, sep, value = word.partition("=")
        if not sep:
            raise typer.BadParameter(f"{word!r}: expected key=value")
        try:
            found[key] = json.loads(value)
        except json.JSONDecodeError:
            found[key] = value
    return found


def _show_policy(ctx: typer.Context, estate: str) -> None:
    from dataclasses import asdict

    from services.workorders.deadlines import policy_for, stored_policy

    async def work(session: AsyncSession) -> tuple[dict[str, int], dict[str, Any]]:
        return asdict(await policy_for(session, estate)), await stored_policy(session, estate)

    effective, own = _in_session(ctx, work)
    for key, seconds in effective.items():
        typer.echo(f"{key:<11} {seconds:>7} s{'  (estate)' if key in own else ''}")


@policy_app.command("show")
def policy_show(ctx: typer.Context, estate: Annotated[str, Arg()]) -> None:
    """The deadlines that apply in an estate; `(estate)` marks its own numbers."""
    _show_policy(ctx, estate)


@policy_app.command("set")
def policy_set(ctx: typer.Context, estate: Annotated[str, Arg()],
               deadlines: Annotated[list[str] | None, Arg(
                   help="ack_s=300 simple_s=1800 complex_s=14400 plan_s=86400 "
                        "external_s=604800; none restores the defaults")] = None) -> None:
    """Set an estate's own deadline numbers (replacing the old ones)."""
    from services.workorders.deadlines import set_estate_policy

    _in_session(ctx, lambda session: set_estate_policy(session, estate,
                                                       _pairs(deadlines or [])))
    _show_policy(ctx, estate)


@overrides_app.command("list")
def overrides_list(ctx: typer.Context,
                   estate: Annotated[str | None, Opt(help="Only this estate")] = None) -> None:
    from services.workorders.rule_overrides import list_overrides

    for row in _in_session(ctx, lambda session: list_overrides(session, estate_id=estate)):
        state = "on " if row.enabled else "off"
        typer.echo(f"{row.estate_id:<10} {row.device_type:<13} {row.rule:<22} {state} "
                   f"{json.dumps(row.params, ensure_ascii=False)}")


@overrides_app.command("set")
def overrides_set(
    ctx: typer.Context, estate: Annotated[str, Arg()], device_type: Annotated[str, Arg()],
    rule: Annotated[str, Arg()],
    params: Annotated[list[str] | None, Arg(help="value=65 for_s=30 priority=P2 ...")] = None,
    enabled: Annotated[bool, Opt("--enabled/--disabled", help="Switch the rule off")] = True,
) -> None:
    """Change a rule's numbers in one estate (or switch it off); the gateway reloads it."""
    from device_profiles import load_profiles
    from services.workorders.rule_overrides import set_override

    settings: Settings = ctx.obj
    profiles = load_profiles(settings.profile_dirs)
    row = _in_session(ctx, lambda session: set_override(
        session, profiles, estate_id=estate, device_type=device_type, rule=rule,
        enabled=enabled, params=_pairs(params or [])))
    typer.echo(f"{estate} {device_type}/{rule}: {'on' if row.enabled else 'off'} "
               f"{json.dumps(row.params, ensure_ascii=False)}")


@overrides_app.command("remove")
def overrides_remove(ctx: typer.Context, estate: Annotated[str, Arg()],
                     device_type: Annotated[str, Arg()], rule: Annotated[str, Arg()]) -> None:
    """Back to the profile's own rule in this estate."""
    from services.workorders.rule_overrides import remove_override

    if not _in_session(ctx, lambda session: remove_override(
            session, estate_id=estate, device_type=device_type, rule=rule)):
        raise _fail(f"no override of {device_type}/{rule} in {estate}")
    typer.echo(f"removed override of {device_type}/{rule} in {estate}")
