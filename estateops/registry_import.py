"""`estateops registry import FILE`: load an estate file, bring the schema to head, import."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.db import open_database
from device_profiles import ProfileSet
from estateops.migrate import ensure_schema
from registry.importer import ImportSummary, import_estates, load_estate_file


async def import_file(database_url: str, path: Path, profiles: ProfileSet) -> ImportSummary:
    """Load `path`, bring the schema to head and import (`estateops registry import FILE`)."""
    estates = await asyncio.to_thread(load_estate_file, path)
    await ensure_schema(database_url)
    async with open_database(database_url) as sessions:
        return await import_estates(sessions, estates, profiles)
