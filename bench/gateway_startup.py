"""How fast `estateops gateway` starts and how much memory it holds before any message.

With N registered devices, one message each is queued and drained once (so rule states and
seq windows are saved), then the gateway is killed -9 and started again `--starts` times:
each start is timed from exec to "subscribed to" in its log, and its RSS read once it has
been idle for a few seconds. A restart after kill -9 is what this times.

Run: .venv/bin/python -m bench.gateway_startup [--devices 50000] [--starts 3]
     [--gateway-path DIR]  (DIR first on the gateway's PYTHONPATH: another tree's code)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench.delivery import (
    ESTATEOPS,
    Backlog,
    forget_gateway_memory,
    gateway_env,
    influx_store,
    open_session,
    publish,
    register,
    servers,
    wait_landed,
)
from bench.process_stats import rss_mb

IDLE_S = 3.0


def start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], float]:
    """The gateway, and seconds from exec to its "subscribed to"."""
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen([str(ESTATEOPS), "gateway"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    deadline = started + 300
    while "subscribed to" not in log.read_text(errors="replace"):
        if time.perf_counter() > deadline or process.poll() is not None:
            process.kill()
            raise SystemExit(f"the gateway never subscribed: see {log}")
        time.sleep(0.01)
    return process, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50_000)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--gateway-path", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp, servers(Path(tmp)) as srv:
        work = Path(tmp)
        backlog = Backlog(f"start-{uuid.uuid4().hex[:6]}", options.devices, options.devices)
        asyncio.run(register(srv.database_url, backlog))
        asyncio.run(forget_gateway_memory(srv.database_url))
        client_id = f"gw-{backlog.estate}"
        open_session(srv.mqtt_port, client_id, backlog.topic_filter)
        publish(srv.mqtt_port, backlog)
        store = influx_store(srv.influx)
        env = gateway_env(srv, store, backlog, client_id, work)
        if options.gateway_path is not None:
            env["PYTHONPATH"] = str(options.gateway_path)
        seconds, idle_rss = [], []
        for index in range(options.starts + 1):
            process, elapsed = start(env, work / f"gateway-{index}.log")
            if index == 0:  # the first start drains the backlog: state to load from now on
                wait_landed(store, backlog.messages)
                time.sleep(2)  # a rule flush
            else:
                time.sleep(IDLE_S)
                seconds.append(elapsed)
                idle_rss.append(rss_mb(process.pid)[0])
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        print(f"{options.devices} devices, {options.starts} restarts after kill -9: exec → "
              f"'subscribed to' median {statistics.median(seconds):.1f} s "
              f"({', '.join(f'{s:.1f}' for s in seconds)}); idle RSS median "
              f"{statistics.median(idle_rss):.0f} MB ({', '.join(f'{r:.0f}' for r in idle_rss)})")


if __name__ == "__main__":
    main()
