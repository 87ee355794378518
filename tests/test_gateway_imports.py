"""`estateops gateway` loads only what the gateway uses.

Every module a process imports stays in its memory, and the gateway's start-up (a restart
after kill -9 included) pays for importing it. The API's stack (FastAPI, Starlette,
uvicorn, openpyxl for exports, Pillow for photos, JWT and password hashing), apprise before
a notification is sent, and the InfluxDB v2 client when writing through the v1 API came in
through package __init__ files and top-level imports of the CLI; this keeps them out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NOT_FOR_THE_GATEWAY = ("fastapi", "starlette", "uvicorn", "sse_starlette", "openpyxl", "PIL",
                       "jwt", "argon2", "pwdlib", "apprise", "influxdb_client", "reactivex")

# What `estateops gateway` imports before it connects: the CLI, the gateway's composition
# root, and the v1 store the settings ask for (build_store imports it on demand).
GATEWAY_START = """
import json, sys
from pathlib import Path
from estateops.cli import app
from estateops.run import run_gateway
from connectors.store.factory import build_store
from connectors.store.settings import InfluxSettings
build_store(InfluxSettings(url="http://127.0.0.1:8086", api_version=1), Path("unused"))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def loaded_top_level_modules(code: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True, timeout=120)
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_the_gateway_command_does_not_load_the_api_stack_or_the_v2_client() -> None:
    loaded = loaded_top_level_modules(GATEWAY_START)
    assert "sqlalchemy" in loaded  # the check sees what was imported
    assert sorted(loaded.intersection(NOT_FOR_THE_GATEWAY)) == []


def test_the_api_and_the_v2_store_still_load_on_demand() -> None:
    loaded = loaded_top_level_modules(GATEWAY_START.replace(
        "print(", "from services.api import create_app\n"
                  "from connectors.store import InfluxV2Store\nprint("))
    assert {"fastapi", "influxdb_client"} <= loaded
