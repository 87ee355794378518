"""A gateway that owns its process keeps the cyclic garbage collector off what it loaded and
runs full collections a tenth as often (why: gateway/runner.py, settle_garbage_collector).
Run in a subprocess: freezing the test process's objects would outlive the test."""

from __future__ import annotations

import json
import subprocess
import sys

from gateway.runner import FULL_COLLECTION_THRESHOLD

PROBE = """
import gc, json
from gateway.runner import settle_garbage_collector
before = gc.get_freeze_count(), gc.get_threshold()
settle_garbage_collector()
print(json.dumps([before, [gc.get_freeze_count(), gc.get_threshold()]]))
"""


def test_the_loaded_objects_are_frozen_and_full_collections_are_rarer() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          check=True, timeout=60)
    (frozen_before, threshold_before), (frozen_after, threshold_after) = json.loads(done.stdout)

    assert frozen_before == 0
    assert frozen_after > 10_000  # every module and object loaded so far
    assert threshold_after[:2] == threshold_before[:2]
    assert threshold_after[2] == FULL_COLLECTION_THRESHOLD > threshold_before[2]
