"""Property: any topic and any bytes end as a valid reading or a named rejection, never an
exception, and an accepted reading only ever becomes points EstateOps can store.

Short in CI (300 examples each); a nightly-style run sets the profile (50 000 each), or any
number of examples:
    ESTATEOPS_FUZZ_PROFILE=nightly .venv/bin/pytest tests/gateway/test_decode_properties.py
    ESTATEOPS_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/gateway/test_decode_properties.py
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.store.line_protocol import render_point
from core.topic import Channel
from device_profiles import load_profiles
from gateway.decode import (
    MAX_EXTRA_STRING_CHARS,
    Rejected,
    RejectReason,
    StatusChange,
    decode_message,
    parse_topic,
    reading_to_points,
)
from gateway.model import Reading
from gateway.timestamps import MAX_AGE_NS, MAX_AHEAD_NS
from gateway.validation import INT64_MAX
from tests.utils.payloads import CONTRACT_TS_MS, CONTRACT_TS_NS, EVENT_EXAMPLES, TELEMETRY_EXAMPLES

settings.register_profile("ci", max_examples=300, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=50_000, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
_PROFILE = settings.get_profile(os.environ.get("ESTATEOPS_FUZZ_PROFILE", "ci"))
FUZZ = settings(_PROFILE, max_examples=int(os.environ.get("ESTATEOPS_FUZZ_EXAMPLES", "0"))
                or _PROFILE.max_examples)

PROFILES = load_profiles()
RECEIVED_NS = CONTRACT_TS_NS
DECODER_REASONS = set(RejectReason) - {RejectReason.unknown_device, RejectReason.type_mismatch,
                                       RejectReason.store_rejected, RejectReason.internal_error}
FIELD_NAMES = sorted({name for example in TELEMETRY_EXAMPLES.values() for name in example}
                     | {name for events in EVENT_EXAMPLES.values()
                        for attributes in events.values() for name in attributes}
                     | {"ts", "seq", "event", "water_leak", "linkquality", "time", "occurred"})
EVENT_NAMES = sorted({event for events in EVENT_EXAMPLES.values() for event in events})

slugs = st.one_of(st.sampled_from(["longdi", "leak-1", "gate-1", "a", "x" * 64]),
                  st.from_regex(r"[a-z0-9][a-z0-9_-]{0,70}", fullmatch=True), st.text(max_size=20))
device_types = st.one_of(st.sampled_from([*PROFILES.device_types, "fridge"]), slugs)
channels = st.one_of(st.sampled_from([channel.value for channel in Channel]), st.text(max_size=9))
structured_topics = st.builds(lambda *parts: "/".join(parts), st.just("estates"), slugs,
                              device_types, slugs, channels)
good_topics = st.builds(lambda device_type, channel: f"estates/longdi/{device_type}/d-1/{channel}",
                        st.sampled_from([*PROFILES.device_types, "fridge"]),
                        st.sampled_from([channel.value for channel in Channel]))
topics = st.one_of(good_topics, structured_topics, st.text(max_size=80))

scalars = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.integers(), st.integers(min_value=2**63 - 2, max_value=2**65),
    st.integers(min_value=CONTRACT_TS_MS - 10**10, max_value=CONTRACT_TS_MS + 10**9),
    st.text(max_size=80), st.sampled_from(["online", "offline", "on", "charging", "open",
                                           "2026-11-22T08:00:00+08:00", "\u0000", "\ud800"]),
)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
field_names = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=70))
objects = st.dictionaries(field_names, json_values, max_size=8).map(
    lambda data: {**data, "event": data.get("event", "vehicle_entry")} if len(data) % 2 else data)


def _json_bytes(data: Any) -> bytes:
    # allow_nan: NaN and Infinity literals are on the wire too.
    return json.dumps(data, allow_nan=True, ensure_ascii=False,
                      default=str).encode("utf-8", errors="surrogatepass")


def _nest(depth: int, inner: bytes) -> bytes:
    return b'{"leak": true, "x": ' + b"[" * depth + inner + b"]" * depth + b"}"


payloads = st.one_of(
    st.binary(max_size=200),
    objects.map(_json_bytes),
    st.builds(lambda data, cut: _json_bytes(data)[:cut], objects, st.integers(0, 200)),
    st.builds(_nest, st.integers(0, 3000), st.sampled_from([b"1", b"NaN", b"", b'"\xff"'])),
    st.builds(lambda data, junk: _json_bytes(data) + junk, objects, st.binary(max_size=8)),
    st.sampled_from([b'{"leak": NaN, x', b"\xef\xbb\xbf{}", b'{"leak": 1e999}', b"online"]),
)


def _check_points(reading: Reading) -> None:
    assert reading.seq is None or 0 <= reading.seq <= INT64_MAX
    assert -MAX_AGE_NS <= reading.time_ns - RECEIVED_NS <= MAX_AHEAD_NS
    profile = PROFILES.by_type[reading.topic.device_type]
    specs = profile.telemetry if reading.event is None else profile.events[reading.event]
    for name, value in reading.extras.items():
        assert name not in specs
        assert isinstance(value, str), (name, value)
        assert len(value) <= MAX_EXTRA_STRING_CHARS
    for point in reading_to_points(reading, profile):
        declared_tags = {name for name, spec in specs.items() if spec.tag}
        assert set(point.tags) <= {"estate", "device", "event", *declared_tags}
        assert all(math.isfinite(value) for value in point.fields.values()
                   if isinstance(value, float))
        render_point(point).encode("utf-8")


def _outcome(topic: str, payload: bytes) -> Reading | StatusChange | Rejected:
    """What the gateway's decoding makes of a message; any other exception escapes."""
    try:
        parsed = parse_topic(topic)
        return decode_message(parsed, payload, PROFILES.get(parsed.device_type),
                              received_ns=RECEIVED_NS)
    except Rejected as rejection:
        return rejection


def _check(result: Reading | StatusChange | Rejected) -> None:
    if isinstance(result, Rejected):
        assert result.reason in DECODER_REASONS
        assert 0 < len(result.detail) < 400
    elif isinstance(result, Reading):
        _check_points(result)


@FUZZ
@given(topic=topics, payload=payloads)
def test_any_topic_and_bytes_end_as_a_reading_or_a_named_rejection(topic: str,
                                                                   payload: bytes) -> None:
    _check(_outcome(topic, payload))


valid_topics = st.builds(lambda device_type, channel: f"estates/longdi/{device_type}/d-1/{channel}",
                         st.sampled_from(sorted(TELEMETRY_EXAMPLES)),
                         st.sampled_from(["telemetry", "event"]))


@FUZZ
@given(topic=valid_topics, changes=objects)
def test_contract_examples_with_any_fields_changed(topic: str, changes: dict[str, Any]) -> None:
    parsed = parse_topic(topic)
    examples = EVENT_EXAMPLES[parsed.device_type] if parsed.channel is Channel.EVENT else {}
    event = next(iter(examples), None)
    base = ({"event": event, **examples[event]} if event
            else dict(TELEMETRY_EXAMPLES[parsed.device_type]))
    result = _outcome(topic, _json_bytes({**base, **changes}))
    assert not isinstance(result, StatusChange)
    _check(result)
