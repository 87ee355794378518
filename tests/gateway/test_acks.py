"""Acknowledgements leave in the order given, each once its count is reached."""

from __future__ import annotations

from gateway.acks import AcksInOrder


def test_an_ack_waits_for_its_count_and_never_overtakes_an_earlier_one() -> None:
    acks, called = AcksInOrder(), []
    acks.call_when(lambda: called.append("a"), 2)
    acks.call_when(lambda: called.append("b"), 1)  # reached sooner, but given later
    acks.reach(1)
    assert (called, bool(acks)) == ([], True)
    acks.reach(2)
    assert (called, bool(acks)) == (["a", "b"], False)


def test_an_ack_whose_count_is_reached_and_none_waiting_is_called_at_once() -> None:
    acks, called = AcksInOrder(), []
    acks.reach(3)
    acks.reach(1)  # a count never goes back
    acks.call_when(lambda: called.append("now"), 3)
    assert (called, acks.reached) == (["now"], 3)
