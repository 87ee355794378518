"""`estateops broker ...`: the MQTT broker's device accounts and access rules."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from estateops.settings import Settings

broker_app = typer.Typer(help="The MQTT broker: device accounts and ACLs from the registry.",
                         no_args_is_help=True)
Opt = typer.Option


async def _sync(database_url: str, out_dir: Path, export: Path | None) -> str:
    from core.db import open_database
    from estateops.broker_access import write_broker_files
    from estateops.broker_sync import sync_credentials, write_export
    from estateops.migrate import ensure_schema

    await ensure_schema(database_url)
    async with open_database(database_url) as sessions:
        result = await sync_credentials(sessions, may_issue=export is not None)
    # Passwords first: a crash after this still leaves them handed out, and the next sync
    # writes the broker files again.
    if export is not None and result.issued:
        await asyncio.to_thread(write_export, export, result.issued)
    await asyncio.to_thread(write_broker_files, out_dir, result.accounts)
    return (f"{len(result.accounts)} device accounts written to {out_dir}; "
            f"{len(result.issued)} new passwords" + (f" in {export}" if result.issued else "")
            + f"; {result.removed} removed")


@broker_app.command("sync")
def sync(
    ctx: typer.Context,
    out_dir: Annotated[Path, Opt(help="Where the broker reads devices.passwd and devices.acl",
                                 file_okay=False)],
    export: Annotated[Path | None, Opt(
        help="Write passwords issued now to this CSV (mode 0600); needed when any device "
             "has none yet. Each password is shown only here, once.")] = None,
    reload_pid_file: Annotated[Path | None, Opt(
        help="Then SIGHUP the broker whose pid is in this file (its `pid_file`)")] = None,
) -> None:
    """Write the broker's device accounts and ACL from the registry, then reload it."""
    from estateops.broker_access import reload_broker
    from estateops.broker_sync import UnexportedPasswords

    settings: Settings = ctx.obj
    try:
        summary = asyncio.run(_sync(settings.effective_database_url, out_dir, export))
    except UnexportedPasswords as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(summary)
    if reload_pid_file is not None:
        typer.echo(f"broker (pid {reload_broker(reload_pid_file)}) reloads its accounts")
