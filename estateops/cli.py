"""The `estateops` command: run the gateway, the API, the simulator, or all of it as a demo."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from device_profiles import ProfileError, load_profiles
from estateops.cli_admin import ADMIN_APPS
from estateops.cli_broker import broker_app
from estateops.cli_qr import qr_app
from estateops.cli_staff import DEMO_ADMIN, ensure_demo_admin, staff_app
from estateops.logs import configure_logging
from estateops.settings import Settings
from services.auth.errors import MissingJwtSecret

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
registry_app = typer.Typer(help="The device registry: estates, buildings, units, devices.",
                           no_args_is_help=True)
profiles_app = typer.Typer(help="Device profiles.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")
app.add_typer(profiles_app, name="profiles")
app.add_typer(staff_app, name="staff")
app.add_typer(broker_app, name="broker")
for _name, _sub_app in ADMIN_APPS.items():
    app.add_typer(_sub_app, name=_name)
app.add_typer(qr_app, name="qr")

log = logging.getLogger("estateops")

Opt = typer.Option


def _overrides(**flags: Any) -> dict[str, Any]:
    """Flags given on the command line, as nested settings (unset flags are left to env)."""
    nested: dict[str, Any] = {}
    for key, value in flags.items():
        if value is None:
            continue
        group, _, name = key.partition("__")
        if name:
            nested.setdefault(group, {})[name] = value
        else:
            nested[group] = value
    return nested


def _validated(build: Callable[[], Settings]) -> Settings:
    """Settings as `build` makes them; invalid ones are a usage error naming the fault."""
    try:
        return build()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[Path | None, Opt(help="Where embedded data lives [var]")] = None,
    database_url: Annotated[str | None, Opt(help="SQLAlchemy URL [SQLite in data dir]")] = None,
    mqtt_url: Annotated[str | None, Opt(help="mqtt://[user:pass@]host:port or mqtts://")] = None,
    influx_url: Annotated[str | None, Opt(help="InfluxDB URL [embedded store]")] = None,
    influx_api_version: Annotated[int | None, Opt(help="1 (v1 /write) or 2 (token)")] = None,
    influx_token: Annotated[str | None, Opt(help="InfluxDB 2.x/3.x token")] = None,
    influx_database: Annotated[str | None, Opt(help="InfluxDB 1.x database")] = None,
    influx_org: Annotated[str | None, Opt()] = None,
    influx_bucket: Annotated[str | None, Opt()] = None,
    profile_dir: Annotated[list[Path] | None, Opt(
        help="Extra device-profile folder (repeatable)")] = None,
    log_level: Annotated[str | None, Opt(help="DEBUG, INFO, WARNING")] = None,
) -> None:
    """Options here apply to every command and override ESTATEOPS_* variables."""
    flags = _overrides(
        data_dir=data_dir, database_url=database_url, mqtt__url=mqtt_url,
        influx__url=influx_url, influx__api_version=influx_api_version,
        influx__token=influx_token, influx__database=influx_database, influx__org=influx_org,
        influx__bucket=influx_bucket, profile_dirs=profile_dir or None, log_level=log_level,
    )
    settings = _validated(lambda: Settings(**flags))
    configure_logging(settings.log_level)
    ctx.obj = settings


def _settings(ctx: typer.Context, **command_flags: Any) -> Settings:
    """The command's settings: those of the global flags, or, when the command has flags of
    its own (`api__port=...`; None: not given), new Settings validated from all the flags
    together. A built Settings is never changed."""
    settings: Settings = ctx.obj
    more = _overrides(**command_flags)
    if not more:
        return settings
    return _validated(lambda: settings.with_changes(more))


async def _stop_on_sigterm(coroutine: Any) -> None:
    """SIGTERM (docker stop, systemd) shuts down as cleanly as Ctrl-C: flushes included."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await coroutine
    except asyncio.CancelledError:
        log.info("stopping on SIGTERM")


def _run(coroutine: Any) -> None:
    try:
        asyncio.run(_stop_on_sigterm(coroutine))
    except KeyboardInterrupt:
        log.info("stopped")
    except (ProfileError, MissingJwtSecret) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the SQL schema (Alembic)."""
    from estateops.migrate import upgrade

    upgrade(_settings(ctx).effective_database_url)
    typer.echo("database schema is up to date")


@registry_app.command("import")
def registry_import(ctx: typer.Context, file: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, help="Estate description, .yaml or .csv")]) -> None:
    """Load estates, buildings, units and devices; re-importing updates them in place."""
    from estateops.registry_import import import_file
    from registry.importer import RegistryImportError

    settings = _settings(ctx)
    try:
        summary = asyncio.run(import_file(settings.effective_database_url, file,
                                          load_profiles(settings.profile_dirs)))
    except (RegistryImportError, ProfileError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(str(summary))


@profiles_app.command("check")
def profiles_check(ctx: typer.Context) -> None:
    """Load every device profile and report the first problem, with file and line."""
    try:
        profiles = load_profiles(_settings(ctx).profile_dirs)
    except ProfileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo("profiles ok: " + ", ".join(profiles.device_types))


@app.command()
def gateway(
    ctx: typer.Context,
    metrics_port: Annotated[int | None, Opt(help="Serve Prometheus metrics on this port")] = None,
    partition: Annotated[str | None, Opt(
        help="index/count: own the devices of partition index of count gateways [0/1]")] = None,
) -> None:
    """Ingest: subscribe to the estates' topics, validate, store, keep last state."""
    from estateops.run import run_gateway

    _run(run_gateway(_settings(ctx, gateway__metrics_port=metrics_port,
                               gateway__partition=partition)))


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, Opt(help="Address to listen on [127.0.0.1]")] = None,
    port: Annotated[int | None, Opt(help="Port [8000]")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    from estateops.run import run_api

    _run(run_api(_settings(ctx, api__host=host or None, api__port=port or None)))


@app.command()
def demo(
    ctx: typer.Context,
    buildings: Annotated[int, Opt(min=1, help="Buildings in the simulated 龙涤小区")] = 60,
    speed: Annotated[float, Opt(min=0.1, help="Simulated seconds per real second")] = 1.0,
    port: Annotated[int | None, Opt(help="API port [8000]")] = None,
    mqtt_port: Annotated[int, Opt(help="Embedded broker port (a free one if taken)")] = 1883,
    faults: Annotated[bool, Opt(help="Script the demo faults (leak in 41号楼2单元, ...)")] = True,
    duration: Annotated[float | None, Opt(help="Stop after this many seconds")] = None,
    admin_password: Annotated[str | None, Opt(
        help="Password of the demo's `admin` account [generated and printed]")] = None,
    alert_url: Annotated[list[str] | None, Opt(
        help="Apprise URL that gets every team's alerts, besides the demo crew's inbox "
             "(repeatable)")] = None,
) -> None:
    """Run everything on embedded defaults: broker, store, gateway, API, simulated estate."""
    from estateops.demo import DemoOptions, run_demo

    # Tokens of a demo need not outlive it: without a configured secret, a new one.
    configured_secret = _settings(ctx).auth.jwt_secret is not None
    settings = _settings(ctx, api__port=port or None,
                         auth__jwt_secret=None if configured_secret else secrets.token_urlsafe(32))
    password = admin_password or secrets.token_urlsafe(12)
    options = DemoOptions(buildings=buildings, speed=speed, mqtt_port=mqtt_port, faults=faults,
                          duration_s=duration, alert_urls=tuple(alert_url or ()),
                          crew_password=password)
    _run(_demo_admin_then(settings.effective_database_url, password, run_demo(settings, options)))


async def _demo_admin_then(database_url: str, password: str, demo: Any) -> None:
    await ensure_demo_admin(database_url, password)
    typer.echo(f"log in to the API as {DEMO_ADMIN} / {password} "
               f"(the crew on duty, wang, zhao, li, sun and chen, share the password)")
    await demo


@app.command()
def simulate(
    ctx: typer.Context,
    buildings: Annotated[int, Opt(min=1, help="Buildings in the simulated estate")] = 60,
    estate_id: Annotated[str, Opt(help="Estate id (slug)")] = "longdi",
    devices: Annotated[int | None, Opt(min=1, help="Simulate this many devices")] = None,
    rate: Annotated[float | None, Opt(help="Cap on messages per second, overall")] = None,
    speed: Annotated[float, Opt(min=0.1, help="Simulated seconds per real second")] = 1.0,
    faults: Annotated[bool, Opt(help="Script the default faults")] = True,
    bridge: Annotated[bool, Opt(help="Few connections for many devices (load tests)")] = False,
    duration: Annotated[float | None, Opt(help="Stop after this many seconds")] = None,
    max_messages: Annotated[int | None, Opt(help="Stop after this many messages")] = None,
    write_registry: Annotated[Path | None, Opt(
        help="Write the estate as a registry import file and exit")] = None,
) -> None:
    """Pretend to be an estate's devices, publishing over MQTT per the device contract."""
    from simulators.estate import build_estate, write_estate_yaml
    from simulators.faults import FaultPlan, default_plan
    from simulators.runner import SimulationConfig
    from simulators.runner import simulate as run_simulation

    estate = build_estate(buildings=buildings, estate_id=estate_id)
    if write_registry is not None:
        write_estate_yaml(estate, write_registry)
        typer.echo(f"wrote {write_registry}")
        return
    config = SimulationConfig(
        broker=_settings(ctx).mqtt.broker_options(client_id="sim"), estate=estate,
        faults=default_plan(estate) if faults else FaultPlan.none(), speed=speed, rate=rate,
        devices=devices, duration_s=duration, max_messages=max_messages,
        mode="bridge" if bridge else "device",
    )
    _run(_report(run_simulation(config)))


async def _report(simulation: Any) -> None:
    stats = await simulation
    typer.echo(str(stats))


@app.command()
def zigbee2mqtt(
    ctx: typer.Context,
    base_topic: Annotated[str | None, Opt(help="Zigbee2MQTT's base topic [zigbee2mqtt]")] = None,
    metrics_port: Annotated[int | None, Opt(help="Serve Prometheus metrics on this port")] = None,
) -> None:
    """Bridge a Zigbee2MQTT coordinator on the same broker: its linked devices' state and
    availability republished per the device contract."""
    from estateops.run_bridges import run_zigbee2mqtt

    settings = _settings(ctx, bridges__zigbee2mqtt={"base_topic": base_topic} if base_topic
                         else None)
    _run(run_zigbee2mqtt(settings, metrics_port))


@app.command()
def ocpp(
    ctx: typer.Context,
    host: Annotated[str | None, Opt(help="Address to listen on [0.0.0.0]")] = None,
    port: Annotated[int | None, Opt(help="Port for ws://host:port/ocpp/<id> [9000]")] = None,
    metrics_port: Annotated[int | None, Opt(help="Serve Prometheus metrics on this port")] = None,
) -> None:
    """OCPP 1.6J central system: chargers linked in the registry connect by WebSocket."""
    from estateops.run_bridges import run_ocpp

    given = {key: value for key, value in {"host": host, "port": port}.items()
             if value is not None}
    _run(run_ocpp(_settings(ctx, bridges__ocpp=given or None), metrics_port))
