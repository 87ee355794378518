"""Redeliveries: by a device's seq in a compact window, or without seq by topic, ts and
payload within a window; in bounded memory."""

from __future__ import annotations

import tracemalloc

from core.clock import NS_PER_S
from gateway.dedupe import WINDOW, RecentMessages, SeqDeduplicator, SeqWindow

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


def test_a_seq_is_new_once_within_the_window_and_out_of_order_is_fine() -> None:
    seqs = SeqDeduplicator()
    assert [seqs.first_time(1, seq) for seq in (5, 3, 4, 5, 3, 9, 6, 9)] == [
        True, True, True, False, False, True, True, False]
    assert seqs.first_time(2, 5)  # another device
    assert seqs.first_time(1, None)  # no seq: not this deduplicator's business


def test_a_seq_far_behind_the_window_is_a_device_counting_again() -> None:
    seqs = SeqDeduplicator()
    for seq in range(1000, 1000 + WINDOW):
        assert seqs.first_time(1, seq)
    assert not seqs.first_time(1, 1000 + WINDOW - 1)
    assert not seqs.first_time(1, 1000)  # the oldest still in the window
    assert seqs.first_time(1, 0)  # restarted at 0
    assert seqs.first_time(1, 1)
    assert not seqs.first_time(1, 0)


def test_a_window_is_saved_and_loaded_as_high_water_mark_and_bitmap() -> None:
    seqs = SeqDeduplicator()
    for seq in (10, 12, 300):
        seqs.first_time(7, seq)
    changes = seqs.take_changes()
    assert seqs.take_changes() == {}
    loaded = SeqDeduplicator()
    loaded.restore([(pk, high, seen) for pk, (high, seen) in changes.items()])
    assert [loaded.first_time(7, seq) for seq in (300, 299, 12, 10)] == [False, True, True, True]
    window = SeqWindow.of(*changes[7])
    assert (window.high, window.seen) == (300, 1)  # 10 and 12 left the 256-wide window


def test_memory_per_device_stays_small_once_its_window_is_full() -> None:
    devices = 2_000
    seqs = SeqDeduplicator()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for seq in range(WINDOW + 44):
            for pk in range(devices):
                seqs.first_time(pk, seq)
        per_device = (tracemalloc.get_traced_memory()[0] - base) / devices
    finally:
        tracemalloc.stop()
    print(f"\nseq de-duplication: {per_device:.0f} bytes per device with a full window")
    assert per_device < 400  # the deque + set before took 11 500
