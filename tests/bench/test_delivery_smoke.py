"""A small run of bench/delivery.py (not timed): every consumer drains the whole backlog,
every message it was sent lands in its store, and every probe's leak makes a work order, so
the benchmark's numbers count real work."""

from __future__ import annotations

import pytest

from bench.delivery import parse_options, run


@pytest.mark.timeout(300)
def test_the_delivery_bench_lands_every_message_it_sends(
        capsys: pytest.CaptureFixture[str]) -> None:
    report = run(parse_options(
        ["--messages", "2000", "--devices", "50", "--sizes", "30", "--size-messages", "600",
         "--latency-seconds", "8", "--probes", "5", "--gateways", "1,2"]))

    print(capsys.readouterr().out)
    paths = [result.path for result in report.throughput]
    assert len(paths) == 5, paths
    assert "2 × estateops gateway" in paths[4], paths
    for result in [*report.throughput, *(result for _devices, result in report.by_size)]:
        assert result.landed == result.sent, result
        assert result.rate > 0, result
    assert [devices for devices, _result in report.by_size] == [30]
    assert report.latency is not None
    assert len(report.latency.latencies_ms) == 5  # every probe's leak made its work order
