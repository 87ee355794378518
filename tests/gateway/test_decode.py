"""decode_message and reading_to_points against the device contract."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from core.topic import Channel, Topic
from device_profiles import load_profiles
from gateway.decode import (
    MAX_EXTRAS,
    MAX_PAYLOAD_BYTES,
    Rejected,
    RejectReason,
    StatusChange,
    decode_message,
    parse_topic,
    reading_to_points,
)
from gateway.model import Reading
from tests.utils.payloads import (
    CONTRACT_TS_MS,
    CONTRACT_TS_NS,
    CONTRACT_TS_RFC3339,
    EVENT_EXAMPLES,
    TELEMETRY_EXAMPLES,
    encode,
    event_payload,
    telemetry_payload,
    topic_for,
)

PROFILES = load_profiles()
RECEIVED_NS = CONTRACT_TS_NS + 2_000_000_000


def decode(device_type: str, payload: bytes | dict[str, Any],
           channel: Channel = Channel.TELEMETRY) -> Reading | StatusChange:
    raw = payload if isinstance(payload, bytes) else encode(payload)
    return decode_message(topic_for(device_type, channel), raw, PROFILES.get(device_type),
                          received_ns=RECEIVED_NS)


def decode_reading(device_type: str, payload: dict[str, Any],
                   channel: Channel = Channel.TELEMETRY) -> Reading:
    reading = decode(device_type, payload, channel)
    assert isinstance(reading, Reading)
    return reading


TELEMETRY, EVENT, STATUS = Channel.TELEMETRY, Channel.EVENT, Channel.STATUS
REJECTIONS: list[tuple[RejectReason, str, Channel, bytes, str]] = [
    (RejectReason.not_json_object, "leak_sensor", TELEMETRY, b"[1, 2]", "payload"),
    (RejectReason.not_json_object, "leak_sensor", TELEMETRY, b'{"leak": tru', "payload"),
    (RejectReason.not_utf8, "leak_sensor", TELEMETRY, b"\xff\xfe\x00{", "payload"),
    (RejectReason.not_utf8, "leak_sensor", TELEMETRY, '{"leak": true}'.encode("utf-16"),
     "payload"),
    (RejectReason.too_deep, "leak_sensor", TELEMETRY, b"[" * 60000, "payload"),
    (RejectReason.too_deep, "leak_sensor", TELEMETRY, b'{"leak": true, "x": ' + b"[" * 60000,
     "payload"),
    (RejectReason.too_large, "leak_sensor", TELEMETRY,
     b'{"leak": true, "x": "' + b"a" * MAX_PAYLOAD_BYTES + b'"}', "payload"),
    (RejectReason.too_large, "leak_sensor", STATUS, b" " * (MAX_PAYLOAD_BYTES + 1), "payload"),
    (RejectReason.wrong_type, "leak_sensor", TELEMETRY, b'{"leak": "yes"}', "leak"),
    (RejectReason.wrong_type, "leak_sensor", TELEMETRY, b'{"leak": true, "seq": true}', "seq"),
    (RejectReason.out_of_range, "leak_sensor", TELEMETRY,
     b'{"leak": true, "seq": 18446744073709551616}', "seq"),
    (RejectReason.out_of_range, "leak_sensor", TELEMETRY,
     b'{"leak": true, "seq": 9223372036854775808}', "seq"),
    (RejectReason.out_of_range, "leak_sensor", TELEMETRY, b'{"leak": true, "seq": -1}', "seq"),
    (RejectReason.ts_too_old, "leak_sensor", TELEMETRY,
     b'{"leak": true, "ts": "2026-11-15T08:00:01+08:00"}', "ts"),
    (RejectReason.wrong_type, "barrier_gate", EVENT, b'{"event": 7}', "event"),
    (RejectReason.non_finite, "leak_sensor", TELEMETRY, b'{"leak": true, "battery": NaN}',
     "battery"),
    (RejectReason.non_finite, "leak_sensor", TELEMETRY, b'{"leak": true, "rssi": -1e999}', "rssi"),
    (RejectReason.out_of_range, "leak_sensor", TELEMETRY, b'{"leak": true, "battery": 101}',
     "battery"),
    (RejectReason.invalid_value, "voice_light", TELEMETRY, b'{"state": "dim"}', "state"),
    (RejectReason.missing_field, "leak_sensor", TELEMETRY, b'{"battery": 50}', "leak"),
    (RejectReason.missing_field, "barrier_gate", EVENT, b'{"plate": "x"}', "event"),
    (RejectReason.ts_in_future, "leak_sensor", TELEMETRY,
     b'{"leak": true, "ts": "2026-11-24T08:00:03+08:00"}', "ts"),
    (RejectReason.bad_ts, "leak_sensor", TELEMETRY,
     b'{"leak": true, "ts": "2026-11-22T08:00:00"}', "ts"),
    (RejectReason.unknown_device_type, "fridge", TELEMETRY, b'{"cold": true}', "fridge"),
    (RejectReason.unknown_event, "barrier_gate", EVENT, b'{"event": "takeoff"}', "event"),
    (RejectReason.bad_status, "leak_sensor", STATUS, b"maybe", "status"),
]
RAISED_ELSEWHERE = {RejectReason.bad_topic, RejectReason.unknown_device,
                    RejectReason.type_mismatch, RejectReason.store_rejected,
                    RejectReason.internal_error}


@pytest.mark.parametrize(("reason", "device_type", "channel", "payload", "field"), REJECTIONS)
def test_each_rejection_reason(reason: RejectReason, device_type: str, channel: Channel,
                               payload: bytes, field: str) -> None:
    with pytest.raises(Rejected) as caught:
        decode(device_type, payload, channel)
    assert caught.value.reason is reason
    assert field in caught.value.detail


def test_rejection_table_covers_every_reason_the_decoder_raises() -> None:
    assert {row[0] for row in REJECTIONS} == set(RejectReason) - RAISED_ELSEWHERE


def test_bad_topic_is_rejected_when_parsed() -> None:
    with pytest.raises(Rejected) as caught:
        parse_topic("estates/longdi/leak_sensor/dev-001/telemetry/extra")
    assert caught.value.reason is RejectReason.bad_topic
    assert "topic" in caught.value.detail
    assert parse_topic("estates/longdi/leak_sensor/dev-001/event") == topic_for(
        "leak_sensor", Channel.EVENT)


def test_parsed_topics_share_their_estate_and_type_strings() -> None:
    """The gateway caches a parsed topic per device: one copy of the estate and the type."""
    first, second = (Topic.parse("/".join(("estates", "est" + "ate-a", "leak_" + "sensor", device,
                                          "telemetry"))) for device in ("d1", "d2"))
    assert first.estate_id is second.estate_id
    assert first.device_type is second.device_type


def test_size_is_checked_before_parsing_and_the_limit_itself_is_allowed() -> None:
    body = b'{"leak": true, "note": "'
    payload = body + b"a" * (MAX_PAYLOAD_BYTES - len(body) - 2) + b'"}'
    assert len(payload) == MAX_PAYLOAD_BYTES
    assert decode_reading("leak_sensor", json.loads(payload)).values == {"leak": True}
    with pytest.raises(Rejected) as caught:
        decode("leak_sensor", b"{" * (MAX_PAYLOAD_BYTES + 1))
    assert caught.value.reason is RejectReason.too_large


def test_epoch_ms_and_offset_rfc3339_give_the_same_time() -> None:
    by_ms = decode_reading("voice_light", {"ts": CONTRACT_TS_MS, "state": "on"})
    by_text = decode_reading("voice_light", {"ts": CONTRACT_TS_RFC3339, "state": "on"})
    assert by_ms.time_ns == by_text.time_ns == CONTRACT_TS_NS
    assert by_ms.received_ns == RECEIVED_NS


def test_absent_ts_is_time_of_receipt_and_seq_is_kept() -> None:
    reading = decode_reading("leak_sensor", {"leak": False, "seq": 812})
    assert (reading.time_ns, reading.seq) == (RECEIVED_NS, 812)


def test_water_leak_is_a_synonym_of_leak() -> None:
    reading = decode_reading("leak_sensor", {"water_leak": True, "battery": 80})
    assert reading.values == {"leak": True, "battery": 80.0}
    assert reading.extras == {}


def test_only_fields_present_are_in_values_and_event_key_is_ignored_on_telemetry() -> None:
    reading = decode_reading("ev_charger", {"status": "faulted", "fault_code": None,
                                            "event": "session_start"})
    assert reading.values == {"status": "faulted", "fault_code": None}
    assert reading.event is None


def test_unknown_fields_are_kept_when_simple_and_dropped_otherwise() -> None:
    kept = {"uptime_s": 3600, "noise_db": 3.1, "paired": True, "fw": "1.2.3", "big": 10**40}
    dropped = {"nested": {"a": 1}, "list": [1], "nothing": None, "long": "x" * 65,
               "huge": 10**400, "time": 5, "bad key": 1, "estate": "x"}
    reading = decode_reading("leak_sensor", {"leak": False, **kept, **dropped})
    # As strings whatever their JSON type: see test_extras_are_strings_so_no_device_fixes_a_type
    assert reading.extras == {"uptime_s": "3600", "noise_db": "3.1", "paired": "true",
                              "fw": "1.2.3", "big": str(10**40)}


def test_extras_are_strings_so_no_device_fixes_a_type() -> None:
    points = [reading_to_points(decode_reading("leak_sensor", {"leak": False, "lq": value}),
                                PROFILES.by_type["leak_sensor"])[1]
              for value in ("high", 87, 87.5, True, 1e300)]
    assert [point.fields["lq"] for point in points] == ["high", "87", "87.5", "true", "1e+300"]


def test_extras_are_a_point_of_their_own_in_the_same_series_and_instant() -> None:
    reading = decode_reading("leak_sensor", {"leak": True, "lq": 87, "seq": 3})
    declared, extras = reading_to_points(reading, PROFILES.by_type["leak_sensor"])
    assert (declared.fields, extras.fields) == ({"leak": True}, {"lq": "87"})
    assert (declared.measurement, declared.tags, declared.time_ns) == (
        extras.measurement, extras.tags, extras.time_ns)
    only_extras = decode_reading("ev_charger", {"connector": 1, "lq": 87})
    assert [point.fields for point in reading_to_points(
        only_extras, PROFILES.by_type["ev_charger"])] == [{"lq": "87"}]


def test_extras_are_capped() -> None:
    many = {f"extra_{index:02d}": index for index in range(MAX_EXTRAS + 5)}
    reading = decode_reading("leak_sensor", {"leak": False, **many})
    assert list(reading.extras) == list(many)[:MAX_EXTRAS]


def test_nan_anywhere_rejects_the_payload_naming_the_top_level_key() -> None:
    with pytest.raises(Rejected) as caught:
        decode("leak_sensor", b'{"leak": true, "diag": {"v": [1, -Infinity]}}')
    assert caught.value.reason is RejectReason.non_finite
    assert caught.value.detail == "diag: -Infinity is not a finite number"


@pytest.mark.parametrize("payload", [b'{"leak": NaN, x', b'{"a": NaN' + b"[" * 60000,
                                     b'{"a": NaN, "b": ' + b"[" * 900 + b"]" * 900 + b"}"])
def test_nan_followed_by_broken_json_is_still_non_finite(payload: bytes) -> None:
    with pytest.raises(Rejected) as caught:
        decode("leak_sensor", payload)
    assert caught.value.reason is RejectReason.non_finite


@pytest.mark.parametrize("value", [b"[" * 900 + b"]" * 900, b"1" * 4000,
                                   b'"' + b"x" * 60000 + b'"'])
def test_a_huge_or_deep_value_is_described_briefly(value: bytes) -> None:
    with pytest.raises(Rejected) as caught:
        decode("leak_sensor", b'{"leak": ' + value + b"}")
    assert caught.value.reason is RejectReason.wrong_type
    assert len(caught.value.detail) < 200


def test_profile_fields_of_another_channel_are_not_extras() -> None:
    reading = decode_reading("barrier_gate", {"position": "open", "plate": "黑A12345"})
    assert reading.values == {"position": "open"}
    assert reading.extras == {}


def test_int_field_strictness_through_decode() -> None:
    assert decode_reading("ev_charger", {"connector": 2.0}).values == {"connector": 2}
    for bad in (2.5, "2", True):
        with pytest.raises(Rejected) as caught:
            decode("ev_charger", {"connector": bad})
        assert caught.value.reason is RejectReason.wrong_type


def test_lone_surrogate_is_invalid_in_a_field_and_dropped_in_extras() -> None:
    with pytest.raises(Rejected) as caught:
        decode("barrier_gate", b'{"position": "open", "fault_code": "E\\ud800"}')
    assert caught.value.reason is RejectReason.invalid_value
    assert "fault_code" in caught.value.detail
    reading = decode("barrier_gate", b'{"position": "open", "note": "E\\ud800", "ok": "\\u00e9"}')
    assert isinstance(reading, Reading)
    assert reading.extras == {"ok": "\u00e9"}


@pytest.mark.parametrize(("payload", "online"), [
    (b"online", True), (b"offline", False), (b' "online"\n', True), (b'"offline"', False),
    (b'{"state": "offline"}', False),
])
def test_status_payloads(payload: bytes, online: bool) -> None:
    change = decode_message(topic_for("fridge", Channel.STATUS), payload, None,
                            received_ns=RECEIVED_NS)
    assert change == StatusChange(topic_for("fridge", Channel.STATUS), online, RECEIVED_NS)


def test_event_with_attributes_and_tag_attribute() -> None:
    reading = decode_reading("barrier_gate", event_payload("barrier_gate", "vehicle_entry"),
                             EVENT)
    assert reading.event == "vehicle_entry"
    assert reading.values == {"plate": "黑A12345", "lane": "north-in"}
    [point] = reading_to_points(reading, PROFILES.by_type["barrier_gate"])
    assert point.measurement == "barrier_gate_event"
    assert point.tags == {"estate": "longdi", "device": "dev-001", "event": "vehicle_entry"}
    assert point.fields == {"plate": "黑A12345", "lane": "north-in", "occurred": True}


def test_obstruction_without_attributes_still_makes_a_point() -> None:
    reading = decode_reading("barrier_gate", {"event": "obstruction", "ts": CONTRACT_TS_MS}, EVENT)
    assert (reading.event, reading.values) == ("obstruction", {})
    [point] = reading_to_points(reading, PROFILES.by_type["barrier_gate"])
    assert point.fields == {"occurred": True}
    assert point.time_ns == CONTRACT_TS_NS


def test_telemetry_point_has_tag_fields_as_strings_and_no_nulls_or_seq() -> None:
    payload = telemetry_payload("ev_charger", seq=9, ts=CONTRACT_TS_MS, firmware="2.0")
    reading = decode_reading("ev_charger", payload)
    point, extras = reading_to_points(reading, PROFILES.by_type["ev_charger"])
    assert point.tags == extras.tags == {"estate": "longdi", "device": "dev-001",
                                         "connector": "1"}
    assert point.fields == {"status": "charging", "power_kw": 1.8, "energy_kwh": 0.62,
                            "temperature_c": 48.5}
    assert extras.fields == {"firmware": "2.0"}
    assert point.time_ns == CONTRACT_TS_NS + 9  # seq 9 in the sub-millisecond digits


def test_reading_of_only_nulls_and_tags_gets_no_point() -> None:
    reading = decode_reading("ev_charger", {"fault_code": None, "connector": 1})
    assert reading_to_points(reading, PROFILES.by_type["ev_charger"]) == []


@pytest.mark.parametrize("device_type", sorted(TELEMETRY_EXAMPLES))
def test_the_hand_written_examples_are_valid_and_become_points(device_type: str) -> None:
    # Every loaded profile, a new one too, is also tested from payloads generated from its
    # declarations: tests/gateway/test_profile_payloads.py.
    profile = PROFILES.by_type[device_type]
    assert set(EVENT_EXAMPLES[device_type]) == set(profile.events)
    reading = decode_reading(device_type, telemetry_payload(device_type))
    [point] = reading_to_points(reading, profile)
    assert point.measurement == profile.measurement
    assert point.tags["device"] == "dev-001"
    for event in profile.events:
        event_reading = decode_reading(device_type, event_payload(device_type, event), EVENT)
        [event_point] = reading_to_points(event_reading, profile)
        assert event_point.measurement == profile.events_measurement
        assert event_point.tags["event"] == event
        assert event_point.fields["occurred"] is True


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 7)
    text = "".join(map(chr, rng.sample(range(1, 0xE000), 5)))
    simple: list[Any] = [None, rng.random() < 0.5, rng.randint(-(2**70), 2**70),
                         rng.uniform(-1e6, 1e6), "on", text,
                         rng.choice(["online", "charging", "2026-11-22T08:00:00+08:00"])]
    if kind < 7:
        return simple[kind]
    if kind == 7:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice(["leak", "ts", "seq", "event", "state", "lane", "x"]):
            random_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def fuzz_payloads(rng: random.Random) -> list[bytes]:
    payloads = [rng.randbytes(rng.randrange(40)) for _ in range(150)]
    payloads += [json.dumps(random_json(rng)).encode() for _ in range(150)]
    for device_type, example in TELEMETRY_EXAMPLES.items():
        for name in [*example, "ts", "seq", "event"]:
            for _ in range(8):
                mutated = {**example, "event": rng.choice([*EVENT_EXAMPLES[device_type], "x"]),
                           name: random_json(rng)}
                payloads.append(json.dumps(mutated).encode())
    return payloads


def test_random_input_only_ever_raises_rejected() -> None:
    rng = random.Random(20261122)
    outcomes: set[str] = set()
    for payload in fuzz_payloads(rng):
        for device_type in [*PROFILES.device_types, "fridge"]:
            for channel in Channel:
                try:
                    result = decode(device_type, payload, channel)
                except Rejected as exc:
                    outcomes.add(exc.reason)
                    continue
                outcomes.add(type(result).__name__)
                if isinstance(result, Reading):
                    for point in reading_to_points(result, PROFILES.by_type[device_type]):
                        assert all(not isinstance(value, float) or math.isfinite(value)
                                   for value in point.fields.values())
    assert {"Reading", "StatusChange", RejectReason.wrong_type} <= outcomes


def test_same_millisecond_messages_stay_apart_and_a_redelivery_overwrites_itself() -> None:
    profile = PROFILES.by_type["barrier_gate"]

    def stored_time(seq: int) -> int:
        payload = event_payload("barrier_gate", "vehicle_entry", seq=seq, ts=CONTRACT_TS_MS)
        reading = decode_reading("barrier_gate", payload, channel=Channel.EVENT)
        return reading_to_points(reading, profile)[0].time_ns

    assert stored_time(41) != stored_time(42)
    assert stored_time(41) == stored_time(41)
    assert abs(stored_time(41) - CONTRACT_TS_NS) < 1_000_000
