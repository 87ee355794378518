"""The demo's embedded broker keeps its real warnings and drops only late-PUBACK noise."""

from __future__ import annotations

import logging

from estateops.broker import LatePubackFilter


def _record(message: str, failure: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(failure), failure, None) if failure is not None else None
    return logging.LogRecord("amqtt.broker", logging.ERROR, __file__, 1, message, None,
                             exc_info)


def test_late_puback_reports_are_dropped_and_everything_else_kept() -> None:
    late = LatePubackFilter()
    assert not late.filter(_record("Timeout waiting for PUBACK for packet ID 45"))
    assert not late.filter(_record("Task failed and will be skipped: <Task ...>",
                                   TimeoutError("Timeout waiting for PUBACK for packet ID 45")))
    assert not late.filter(_record("Received PUBACK for unknown pending message Id: '74'"))
    assert late.filter(_record("Task failed and will be skipped: <Task ...>",
                               ConnectionResetError("peer went away")))
    assert late.filter(_record("1 messages not broadcasted"))
