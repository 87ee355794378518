"""Redeliveries without seq: topic, ts and payload within a window, in bounded memory."""

from __future__ import annotations

from core.clock import NS_PER_S
from gateway.dedupe import RecentMessages

TOPIC = "estates/e1/voice_light/light-1/telemetry"
PAYLOAD = b'{"ts": 1795305600000, "state": "on", "current_ma": 1.5}'
TS_NS = 1_795_305_600_000 * 1_000_000


def test_the_same_message_again_is_a_redelivery_within_the_window() -> None:
    seen = RecentMessages(window_s=60)
    assert seen.first_time(TOPIC, TS_NS, PAYLOAD, received_ns=0)
    assert not seen.first_time(TOPIC, TS_NS, PAYLOAD, received_ns=59 * NS_PER_S)
    assert seen.first_time(TOPIC, TS_NS, PAYLOAD, received_ns=121 * NS_PER_S)


def test_another_topic_ts_or_payload_is_another_message() -> None:
    seen = RecentMessages()
    assert seen.first_time(TOPIC, TS_NS, PAYLOAD, received_ns=0)
    assert seen.first_time(TOPIC.replace("light-1", "light-2"), TS_NS, PAYLOAD, received_ns=1)
    assert seen.first_time(TOPIC, TS_NS + 1, PAYLOAD, received_ns=2)
    assert seen.first_time(TOPIC, TS_NS, PAYLOAD.replace(b"1.5", b"1.6"), received_ns=3)


def test_memory_is_bounded_and_the_oldest_go_first() -> None:
    seen = RecentMessages(window_s=3600, max_entries=100)
    for n in range(1000):
        assert seen.first_time(TOPIC, TS_NS + n, PAYLOAD, received_ns=n)
    assert len(seen) == 100
    assert seen.first_time(TOPIC, TS_NS, PAYLOAD, received_ns=1000)  # forgotten
    assert not seen.first_time(TOPIC, TS_NS + 999, PAYLOAD, received_ns=1001)


def test_old_entries_leave_as_time_passes() -> None:
    seen = RecentMessages(window_s=1)
    for n in range(50):
        seen.first_time(TOPIC, TS_NS + n, PAYLOAD, received_ns=n)
    seen.first_time(TOPIC, TS_NS - 1, PAYLOAD, received_ns=10 * NS_PER_S)
    assert len(seen) == 1
