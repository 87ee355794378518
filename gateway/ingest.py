"""One message in: parse, look up, validate, de-duplicate, then queue points and state.

Independent of MQTT, so it is tested by calling `handle` directly.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache, partial

from prometheus_client import Counter

from connectors.mqtt import Delivery
from core.telemetry import Point
from core.topic import Channel, Topic, TopicError
from device_profiles import ProfileSet
from gateway import metrics
from gateway.acks import Ack
from gateway.deadletters import DeadLetterSink
from gateway.decode import Rejected, RejectReason, StatusChange, decode_message, reading_to_points
from gateway.dedupe import Deduplicator
from gateway.directory import DeviceDirectory
from gateway.model import Reading
from gateway.partition import NOT_OWNED, WHOLE, Partition
from gateway.rules import RuleStage
from gateway.state import StateTracker
from gateway.timestamps import DEFAULT_WINDOW, TsWindow
from gateway.writer import PointWriter

log = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 500


class Outcome(StrEnum):
    STORED = "stored"
    STATUS = "status"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    NOT_OWNED = "not_owned"


@dataclass
class Ingestor:
    profiles: ProfileSet
    directory: DeviceDirectory
    writer: PointWriter
    state: StateTracker
    dead_letters: DeadLetterSink
    dedupe: Deduplicator
    rules: RuleStage | None = None
    window: TsWindow = DEFAULT_WINDOW
    partition: Partition = WHOLE

    async def handle(self, topic_name: str, payload: bytes, received_ns: int,
                     ack: Ack | None = None) -> Outcome:
        """Ingest one message; `ack` is called once every point queued so far (this
        message's included) is in the store (a duplicate's original may still be queued),
        the rule-stage flush holding its effects has committed, and its dead letter (if it
        was refused) is saved.
        A message for a device another gateway owns is acknowledged at once, unread."""
        if not self.partition.owns_topic(topic_name):
            if ack is not None:
                ack()
            return self._not_owned()
        points: list[Point] = []
        with self._recording():
            outcome = await self._examine(topic_name, payload, received_ns, points)
            await self.writer.put(points)
        if ack is not None:
            self._acknowledge_when_durable(ack)
        return outcome

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Ingest messages in order as `handle` does, their points queued in one go; the
        batch's acks are called, in order, once every point of the batch (and before it) is
        stored and the rule flush holding its effects has committed. Messages for devices
        another gateway owns are not read, and acknowledged with the rest."""
        points: list[Point] = []
        with self._recording():
            outcomes = [await self._examine(delivery.topic, delivery.payload,
                                            delivery.received_ns, points)
                        if self.partition.owns_topic(delivery.topic) else self._not_owned()
                        for delivery in deliveries]
            await self.writer.put(points)
        self._acknowledge_when_durable(partial(_acknowledge_all, [d.ack for d in deliveries]))
        return outcomes

    def _recording(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext() if self.rules is None else self.rules.recording()

    @staticmethod
    def _not_owned() -> Outcome:
        NOT_OWNED.inc()
        return Outcome.NOT_OWNED

    def _acknowledge_when_durable(self, ack: Ack) -> None:
        """Points stored, then rule effects saved, then dead letters saved: each in receive
        order, so acks are too."""
        dead_letters, rules = self.dead_letters, self.rules

        def when_letters_saved() -> None:
            dead_letters.when_saved(ack)

        if rules is None:
            self.writer.when_written(when_letters_saved)
            return
        generation = rules.generation  # read after the effects were recorded
        self.writer.when_written(lambda: rules.when_saved(when_letters_saved, generation))

    async def _examine(self, topic_name: str, payload: bytes, received_ns: int,
                       points: list[Point]) -> Outcome:
        """Ingest one message, adding its points (if any) to `points`; a bad one is
        dead-lettered."""
        try:
            return await self._ingest(topic_name, payload, received_ns, points)
        except Rejected as rejection:
            self._reject(topic_name, payload, received_ns, rejection.reason, rejection.detail)
        except Exception as exc:  # a bug must cost one message, never the gateway
            log.exception("failed to ingest a message on %s", topic_name)
            self._reject(topic_name, payload, received_ns, RejectReason.internal_error, repr(exc))
        return Outcome.REJECTED

    async def _ingest(self, topic_name: str, payload: bytes, received_ns: int,
                      points: list[Point]) -> Outcome:
        try:
            topic = _parse_topic(topic_name)
        except TopicError as exc:
            raise Rejected(RejectReason.bad_topic, str(exc)[:MAX_DETAIL_CHARS]) from exc
        _received(topic.channel).inc()
        device = await self.directory.lookup(topic.estate_id, topic.device_id)
        if device is None or not device.enabled:
            raise Rejected(RejectReason.unknown_device,
                           f"device {topic.device_id!r} is not registered in estate "
                           f"{topic.estate_id!r}" + ("" if device is None else " (disabled)"))
        if device.device_type != topic.device_type:
            raise Rejected(RejectReason.type_mismatch,
                           f"topic says {topic.device_type!r}, registry says "
                           f"{device.device_type!r}")
        profile = self.profiles.get(topic.device_type)
        decoded = decode_message(topic, payload, profile, received_ns=received_ns,
                                 window=self.window)
        if isinstance(decoded, StatusChange):
            self.state.seen_status(device.pk, online=decoded.online, received_ns=received_ns)
            if self.rules is not None:
                await self.rules.on_status(device, decoded)
            return Outcome.STATUS
        if not self.dedupe.first_time(device.pk, topic_name, decoded, payload):
            metrics.MESSAGES_DUPLICATE.inc()
            return Outcome.DUPLICATE
        assert profile is not None  # decode_message rejects a missing profile
        points.extend(reading_to_points(decoded, profile))
        self._remember(device.pk, decoded)
        if self.rules is not None:
            await self.rules.on_reading(device, decoded)
        return Outcome.STORED

    def _remember(self, device_pk: int, reading: Reading) -> None:
        if reading.topic.channel is Channel.EVENT:
            event = {"event": reading.event, **reading.values}
            self.state.seen_event(device_pk, time_ns=reading.time_ns,
                                  received_ns=reading.received_ns, event=event)
        else:
            values = {**reading.values, **reading.extras}
            self.state.seen_telemetry(device_pk, time_ns=reading.time_ns,
                                      received_ns=reading.received_ns, values=values,
                                      seq=reading.seq)

    def _reject(self, topic_name: str, payload: bytes, received_ns: int, reason: RejectReason,
                detail: str) -> None:
        parts = topic_name.split("/")
        estate_id, device_id = (parts[1], parts[3]) if len(parts) == 5 else (None, None)
        self.dead_letters.add(
            received_at=datetime.fromtimestamp(received_ns / 1e9, tz=UTC), topic=topic_name,
            reason=reason, detail=detail[:MAX_DETAIL_CHARS], payload=payload,
            estate_id=(estate_id or None) and estate_id[:64],
            device_id=(device_id or None) and device_id[:64],
        )


# A device's topic comes again and again: parse each once (a refused one is not kept).
_parse_topic = lru_cache(maxsize=131_072)(Topic.parse)


@lru_cache(maxsize=len(Channel))
def _received(channel: Channel) -> Counter:
    return metrics.MESSAGES_RECEIVED.labels(channel=channel)


def _acknowledge_all(acks: Sequence[Ack]) -> None:
    for ack in acks:
        ack()
