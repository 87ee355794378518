"""Line protocol rendering: exact text, and a round trip of awkward values through influxd."""

from __future__ import annotations

import pytest

from connectors.store.influx_v1 import InfluxV1Store
from connectors.store.influxql import quote_identifier
from connectors.store.line_protocol import render_field_value, render_point, render_points
from core.telemetry import Point
from tests.fixtures.influx import HttpServer, influx_rows, unique_name

T0_NS = 1_795_305_600_000_000_000


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (42, "42i"),
        (-7, "-7i"),
        (True, "true"),
        (False, "false"),
        (0.1 + 0.2, "0.30000000000000004"),
        (5.0, "5.0"),
        (1e20, "1e+20"),
        ('say "hi" \\ now\nnext', '"say \\"hi\\" \\\\ now\nnext"'),
        ("黑A12345", '"黑A12345"'),
    ],
)
def test_field_values_render_with_their_type(value: bool | int | float | str, text: str) -> None:
    assert render_field_value(value) == text


def test_point_escapes_names_sorts_tags_and_skips_empty_tag_values() -> None:
    point = Point(
        measurement="barrier gate,v2",
        tags={"lane": "north in", "device": "g-1", "estate": "", "a=b": "x,y"},
        fields={"plate": "黑A12345", "speed kmh": 12.5},
        time_ns=T0_NS,
    )
    assert render_point(point) == (
        "barrier\\ gate\\,v2,a\\=b=x\\,y,device=g-1,lane=north\\ in"
        f' plate="黑A12345",speed\\ kmh=12.5 {T0_NS}'
    )


def test_backslash_is_doubled_only_where_it_would_escape_a_delimiter() -> None:
    point = Point("m", {"path": "c:\\dir", "end": "x\\"}, {"v": 1}, 1)
    assert render_point(point) == "m,end=x\\\\,path=c:\\dir v=1i 1"


def test_control_characters_in_tags_do_not_break_the_line() -> None:
    point = Point("m", {"note": "a\nb"}, {"v": 1}, 1)
    assert "\n" not in render_point(point)


def test_points_are_joined_one_per_line() -> None:
    points = [Point("m", {}, {"v": index}, index) for index in range(3)]
    assert render_points(points) == "m v=0i 0\nm v=1i 1\nm v=2i 2"


async def test_awkward_values_round_trip_through_influxd(influxdb_v1: HttpServer) -> None:
    database = unique_name("lp")
    fields: dict[str, bool | int | float | str] = {
        "plate": "黑A12345",
        "note": 'he said "stop"\\ then\nleft',
        "count, total=all": 2**62,
        "ratio": 0.1 + 0.2,
        "tiny": 1.5e-07,
        "open": True,
    }
    tags = {"estate": "龙涤 小区", "device": "g,1=a", "path": "c:\\dir"}
    point = Point("barrier gate,x", tags, fields, T0_NS + 123)
    store = InfluxV1Store(influxdb_v1.url, database)
    try:
        await store.write([point])
    finally:
        await store.aclose()
    rows = await influx_rows(influxdb_v1.url, database,
                             f"SELECT * FROM {quote_identifier(point.measurement)}")
    assert rows == [{"time": T0_NS + 123, **tags, **fields}]
