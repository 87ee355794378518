"""The MQTT connection: settings, one client constructor, a reconnecting consumer (capped,
jittered backoff) and a publisher, shared by the gateway and the API; and `BrokerOptions`,
the same broker as plain options for clients that are not aiomqtt's (the simulator's)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import urlsplit

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import Counter, Gauge
from pydantic import BaseModel, Field, SecretStr, field_validator

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, int], Awaitable[object]]
Ack = Callable[[], None]
# topic, payload, received_ns, and the message's acknowledgement: call it once the message's
# effects are durable (never, and the broker redelivers it on the next connection).
AckedHandler = Callable[[str, bytes, int, Ack], Awaitable[object]]
Deliver = Callable[[aiomqtt.Client, aiomqtt.Message], Awaitable[object]]
# Devices reconnect within 1-2 s of a broker restart; a consumer that waits longer leaves
# their messages queued (or, on a broker that lost the session, unread). Jittered 50-100 %.
MAX_BACKOFF_S = 2.0
INITIAL_BACKOFF_S = 0.5
# Unbounded by default: where a message is acknowledged on receipt, a bound only trades
# memory for loss; the gateway acknowledges after the store write (`consume_acked`), so the
# broker's in-flight limit bounds its queue. The depth gauge shows what the queue holds.
DEFAULT_MAX_QUEUED_MESSAGES = 0

INCOMING_QUEUED = Gauge(
    "estateops_mqtt_incoming_queued",
    "Messages received from the broker, waiting in the client's queue for their handler",
    ["client_id"],
)
INCOMING_DROPPED = Counter(
    "estateops_mqtt_incoming_dropped",
    "Messages received (and, at QoS 1, already acknowledged) but discarded: the client's "
    "incoming queue was full (max_queued_messages); they are lost",
    ["client_id"],
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerOptions:
    """A broker and how to connect to it, as plain values (paho clients: the simulator's).

    Build it from the settings with `MqttSettings.broker_options`. `qos` is what the holder
    publishes with (the settings' `qos` is the gateway's subscription). Who opens many
    connections (the simulator) uses `client_id` as the prefix of each connection's id.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: Path | None = None
    keepalive_s: int = 30
    qos: Literal[0, 1] = 1
    client_id: str = "sim"
    connect_timeout_s: float = 30.0


class MqttSettings(BaseModel):
    url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="mqtt://host:port or mqtts://host:port (TLS); user:password@ allowed",
    )
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = Field(default=None, description="CA bundle for mqtts://")
    client_id: str = "estateops-gateway"
    qos: Annotated[int, Field(ge=0, le=1)] = 1
    shared_group: str | None = Field(
        default=None, description="MQTT 5 shared-subscription group for several gateways"
    )
    topic: str = "estates/+/+/+/+"
    keepalive_s: int = 30
    max_queued_messages: int = Field(
        default=DEFAULT_MAX_QUEUED_MESSAGES, ge=0,
        description=(
            "bound of a client's incoming queue (received, not yet handled); 0: unbounded. "
            "Where a QoS 1 message is acknowledged on receipt (the API), one arriving at a "
            "full queue is lost (counted in estateops_mqtt_incoming_dropped_total); the "
            "gateway acknowledges after the store write, and the broker's "
            "max_inflight_messages bounds its queue"
        ),
    )

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError("MQTT URL must start with mqtt:// or mqtts://")
        return url

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme in ("mqtts", "ssl")

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)

    @property
    def effective_username(self) -> str | None:
        return self.username or urlsplit(self.url).username

    @property
    def effective_password(self) -> str | None:
        if self.password is not None:
            return self.password.get_secret_value()
        return urlsplit(self.url).password

    @property
    def subscription(self) -> str:
        if self.shared_group:
            return f"$share/{self.shared_group}/{self.topic}"
        return self.topic

    def broker_options(self, *, client_id: str | None = None) -> BrokerOptions:
        """This broker (address, account, TLS, keepalive) as plain options; `client_id`
        defaults to the settings' own."""
        return BrokerOptions(
            host=self.host, port=self.port, username=self.effective_username,
            password=self.effective_password, tls=self.tls, ca_file=self.ca_file,
            keepalive_s=self.keepalive_s, client_id=client_id or self.client_id,
        )


def counted_queue(client_id: str) -> type[asyncio.Queue[aiomqtt.Message]]:
    """An incoming-message queue class for aiomqtt that keeps INCOMING_QUEUED (its depth)
    and INCOMING_DROPPED (what aiomqtt discarded because it was full) for `client_id`."""
    queued = INCOMING_QUEUED.labels(client_id=client_id)
    dropped = INCOMING_DROPPED.labels(client_id=client_id)

    class CountedQueue(asyncio.Queue[aiomqtt.Message]):
        def __init__(self, maxsize: int = 0) -> None:
            super().__init__(maxsize)
            # Read when scraped, not set per message: the depth costs the hot path nothing.
            # A new connection's queue replaces the last one's.
            queued.set_function(self.qsize)

        def put_nowait(self, item: aiomqtt.Message) -> None:
            try:
                super().put_nowait(item)
            except asyncio.QueueFull:
                dropped.inc()  # aiomqtt logs a warning and discards the message
                raise

    return CountedQueue


def mqtt_client(settings: MqttSettings, *, client_id: str | None = None,
                persistent: bool = True) -> aiomqtt.Client:
    """An aiomqtt client for these settings.

    Received messages wait in a queue of at most `settings.max_queued_messages` until they
    are read (`client.messages`). Unless manual acknowledgement is on (`consume_acked`, the
    gateway's), paho acknowledges a QoS 1 message as soon as it arrives, before it is
    queued: one that finds the queue full is discarded, counted in INCOMING_DROPPED, and
    lost — the broker will not redeliver it, persistent session or not. The bound caps the
    memory a slow handler can take, not the loss. Mind a persistent session's backlog: on
    reconnect the broker sends all of it at once, before the first message is handled, so
    everything beyond the bound is lost; size the bound above the backlog the consumer must
    drain after a restart (or 0, unbounded).
    """
    broker = settings.broker_options(client_id=client_id)
    tls_context = None
    if broker.tls:
        tls_context = ssl.create_default_context(
            cafile=str(broker.ca_file) if broker.ca_file else None)
    # A persistent session (clean_session False): while the gateway restarts, the broker
    # keeps its QoS 1 messages for it (they must fit the incoming bound when they arrive).
    return aiomqtt.Client(
        broker.host, broker.port,
        username=broker.username, password=broker.password,
        identifier=broker.client_id, clean_session=not persistent,
        keepalive=broker.keepalive_s,
        tls_context=tls_context, timeout=10,
        queue_type=counted_queue(broker.client_id),
        max_queued_incoming_messages=settings.max_queued_messages,
    )


async def consume(settings: MqttSettings, handle: MessageHandler,
                  connected: asyncio.Event | None = None, *, subscription: str | None = None,
                  qos: int | None = None, client_id: str | None = None, persistent: bool = True,
                  connected_gauge: Gauge | None = None) -> None:
    """Deliver the messages to `handle` until cancelled; survive the broker going away.

    Defaults are the gateway's (its subscription, QoS and persistent session); the API's
    alert stream passes its own. A QoS 1 message is acknowledged on receipt; while `handle`
    is busy, messages wait in the client's queue of `settings.max_queued_messages`; what
    overflows it is counted and lost (see `mqtt_client`). `consume_acked` loses nothing.
    """
    async def deliver(_client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        await handle(str(message.topic), payload_bytes(message.payload), time.time_ns())

    await _consume(settings, deliver, connected, subscription=subscription, qos=qos,
                   client_id=client_id, persistent=persistent, connected_gauge=connected_gauge,
                   manual_ack=False)


class Delivery(NamedTuple):
    """One message as the gateway's reader hands it over: call `ack` once its effects are
    durable (never, and the broker redelivers it on the next connection)."""

    topic: str
    payload: bytes
    received_ns: int
    ack: Ack


BatchHandler = Callable[[list[Delivery]], Awaitable[object]]
# Acknowledgements wait at most this long for the reader thread when no message arrives.
ACK_LATENCY_S = 0.01
READ_AHEAD_BYTES = 256 * 1024
MAX_BATCH = 5_000


async def consume_batches(settings: MqttSettings, handle_batch: BatchHandler,
                          connected: asyncio.Event | None = None, *,
                          connected_gauge: Gauge | None = None) -> None:
    """The gateway's consumer: its subscription on a persistent session, QoS 1 messages
    acknowledged only when their `Delivery.ack` is called (paho's manual acknowledgement),
    handed to `handle_batch` a list at a time until cancelled; survives the broker going
    away (capped, jittered backoff).

    A paho client in a thread of its own reads the socket in large chunks and hands every
    read's messages to the event loop in one call: no task or callback per message. The
    broker sends at most its `max_inflight_messages` unacknowledged messages and holds the
    rest, so that limit bounds what waits here, and a slow store slows acknowledgement
    instead of growing memory. Acknowledgements go back through the reader thread in the
    order they are made; one made after its connection ended is dropped (the message comes
    again on the next connection of the persistent session).
    """
    loop = asyncio.get_running_loop()
    batches: asyncio.Queue[list[Delivery]] = asyncio.Queue()

    def connection_changed(up: bool) -> None:
        if connected_gauge is not None:
            connected_gauge.set(1 if up else 0)
        if connected is not None:
            (connected.set if up else connected.clear)()

    reader = _BatchReader(settings, loop, batches.put_nowait, connection_changed)
    thread = threading.Thread(target=reader.run, name="mqtt-reader", daemon=True)
    thread.start()
    try:
        while True:
            batch = await batches.get()
            while not batches.empty() and len(batch) < MAX_BATCH:
                batch.extend(batches.get_nowait())
            await handle_batch(batch)
    finally:
        reader.stop()


async def consume_acked(settings: MqttSettings, handle: AckedHandler,
                        connected: asyncio.Event | None = None, *,
                        connected_gauge: Gauge | None = None) -> None:
    """`consume_batches`, one message at a time to `handle`."""
    async def handle_batch(batch: list[Delivery]) -> None:
        for delivery in batch:
            await handle(*delivery)

    await consume_batches(settings, handle_batch, connected, connected_gauge=connected_gauge)


RawPublish = Callable[[int, int, bytes, bytes], None]  # qos, message id, topic, payload
_PUBLISH = 3  # MQTT control packet types (the high nibble of a packet's first byte)


class _PublishSplitter:
    """The broker's socket, read in large chunks, its PUBLISH packets parsed here (MQTT
    3.1.1: no properties) and handed to `on_publish`; every other packet (CONNACK, SUBACK,
    PINGRESP) is left for paho to read. paho reads a packet a few bytes at a time and
    builds objects and callbacks for each: most of a bare paho subscriber's time."""

    def __init__(self, sock: Any, on_publish: RawPublish) -> None:
        self._sock = sock
        self._on_publish = on_publish
        self._rest = bytearray()  # an incomplete packet at the end of the last read
        self._rest_needs = 0  # its whole length, once its header is in
        self._for_paho = bytearray()
        self._closed = False

    def recv(self, size: int) -> bytes:
        """paho's read: the next bytes of a packet that is not a PUBLISH."""
        if not self._for_paho and not self._closed:
            self._read_socket()
        if not self._for_paho:
            if self._closed:
                return b""  # the broker closed the connection
            raise BlockingIOError  # only PUBLISH packets came: nothing for paho
        piece = bytes(self._for_paho[:size])
        del self._for_paho[:size]
        return piece

    def _read_socket(self) -> None:
        chunk = self._sock.recv(READ_AHEAD_BYTES)  # BlockingIOError, SSL: paho's to handle
        if not chunk:
            self._closed = True
            return
        if not self._rest:
            self._keep(*self._split(chunk))
            return
        # A packet larger than a read is gathered first and split once: splitting the
        # whole rest again at every read would copy a large message once per read.
        self._rest += chunk
        if len(self._rest) >= self._rest_needs:
            self._keep(*self._split(bytes(self._rest)))

    def _keep(self, rest: bytes, needs: int) -> None:
        self._rest, self._rest_needs = bytearray(rest), needs

    def _split(self, data: bytes) -> tuple[bytes, int]:
        """Dispatch every whole packet in `data`; return the incomplete rest and the length
        it must reach to hold its first packet (0: its header is not all there yet)."""
        position, size = 0, len(data)
        while size - position >= 2:
            length, body = _remaining_length(data, position + 1)
            if body < 0:
                return data[position:], 0
            end = body + length
            if end > size:
                return data[position:], end - position
            if data[position] >> 4 == _PUBLISH:
                self._publish(data[position], data, body, end)
            else:
                self._for_paho += data[position:end]
            position = end
        return data[position:], 0

    def _publish(self, flags: int, data: bytes, body: int, end: int) -> None:
        qos = (flags >> 1) & 3
        topic_end = body + 2 + (data[body] << 8 | data[body + 1])
        message_id = 0
        if qos:
            message_id = data[topic_end] << 8 | data[topic_end + 1]
        payload_start = topic_end + (2 if qos else 0)
        self._on_publish(qos, message_id, data[body + 2:topic_end], data[payload_start:end])

    def pending(self) -> int:
        inner = getattr(self._sock, "pending", None)  # TLS: decrypted, not yet read
        return len(self._for_paho) + (inner() if inner is not None else 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _remaining_length(data: bytes, start: int) -> tuple[int, int]:
    """A fixed header's remaining length and where the packet's body starts (-1: the
    length is not all there yet)."""
    length, shift = 0, 0
    for index in range(start, min(start + 4, len(data))):
        byte = data[index]
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return length, index + 1
        shift += 7
    if len(data) - start >= 4:
        raise ConnectionError("malformed MQTT remaining length")
    return 0, -1


class _SplittingClient(paho.Client):
    """A paho client whose PUBLISH packets go to `on_raw_publish`, not its callbacks."""

    on_raw_publish: RawPublish

    def _create_socket(self) -> Any:
        return _PublishSplitter(super()._create_socket(), self.on_raw_publish)


class _BatchReader:
    """Runs in its own thread: connects, reads, hands batches to the event loop, and sends
    the acknowledgements made there."""

    def __init__(self, settings: MqttSettings, loop: asyncio.AbstractEventLoop,
                 deliver: Callable[[list[Delivery]], None],
                 connection_changed: Callable[[bool], None]) -> None:
        self._settings = settings
        self._topic = settings.subscription
        self._loop = loop
        self._deliver = deliver
        self._connection_changed = connection_changed
        self._stopping = threading.Event()
        self._batch: list[Delivery] = []
        self._acks: deque[tuple[paho.Client, int]] = deque()
        self._backoff = INITIAL_BACKOFF_S

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            client = self._client()
            try:
                broker = self._settings.broker_options()
                client.connect(broker.host, broker.port, keepalive=broker.keepalive_s)
            except (OSError, ssl.SSLError) as exc:
                self._wait_to_reconnect(f"cannot connect: {exc}")
                continue
            try:
                reason = self._serve(client)
            except Exception as exc:  # a bug costs a reconnect, never the consumer
                log.exception("MQTT reader failed")
                reason = repr(exc)
                with contextlib.suppress(Exception):
                    client.disconnect()
            self._call_soon(self._connection_changed, False)
            if not self._stopping.is_set():
                self._wait_to_reconnect(reason)

    def _wait_to_reconnect(self, reason: str) -> None:
        delay = self._backoff * random.uniform(0.5, 1.0)
        log.warning("broker connection lost (%s); reconnecting in %.1fs", reason, delay)
        self._stopping.wait(delay)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)

    def _client(self) -> paho.Client:
        broker = self._settings.broker_options()
        # One paho client per connection: an ack that outlives its connection goes nowhere.
        client = _SplittingClient(CallbackAPIVersion.VERSION2, client_id=broker.client_id,
                                  clean_session=False, protocol=paho.MQTTv311)
        client.on_raw_publish = partial(self._on_publish, client)
        client.manual_ack_set(True)
        if broker.username is not None:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            client.tls_set_context(ssl.create_default_context(
                cafile=str(broker.ca_file) if broker.ca_file else None))
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        return client

    def _serve(self, client: paho.Client) -> str:
        """Read, hand over and acknowledge until the connection ends; why it ended."""
        code = paho.MQTT_ERR_SUCCESS
        while code == paho.MQTT_ERR_SUCCESS and not self._stopping.is_set():
            code = client.loop(timeout=ACK_LATENCY_S)
            while code == paho.MQTT_ERR_SUCCESS and self._buffered(client) and (
                    len(self._batch) < MAX_BATCH):
                code = client.loop_read()
            self._hand_over()
            self._send_acks(client)
        if self._stopping.is_set():
            self._send_acks(client)  # what the pipeline acknowledged while stopping
            client.disconnect()
            return "stopping"
        return paho.error_string(code)

    @staticmethod
    def _buffered(client: paho.Client) -> bool:
        sock = client.socket()
        return isinstance(sock, _PublishSplitter) and sock.pending() > 0

    def _hand_over(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            self._call_soon(self._deliver, batch)

    def _send_acks(self, client: paho.Client) -> None:
        acks = self._acks
        if not acks:
            return
        pubacks = bytearray()
        while acks:
            owner, message_id = acks.popleft()
            if owner is client:
                pubacks += _PUBACK_HEADER + message_id.to_bytes(2, "big")
        if pubacks:
            # All of them as one write, after what paho queued before, in the order they
            # were made: paho.ack() would queue and send each PUBACK on its own.
            client._packet_queue(paho.PUBACK, pubacks, 0, 0)

    def _call_soon(self, callback: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is closed: we are done
            self._loop.call_soon_threadsafe(callback, *args)

    def _on_connect(self, client: paho.Client, _userdata: object, _flags: object,
                    reason: ReasonCode, _properties: object) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        client.subscribe(self._topic, qos=self._settings.qos)

    def _on_subscribe(self, client: paho.Client, _userdata: object, _mid: int,
                      reasons: list[ReasonCode], _properties: object) -> None:
        if any(reason.is_failure for reason in reasons):
            log.error("broker refused the subscription to %s: %s", self._topic, reasons)
            client.disconnect()
            return
        log.info("subscribed to %s on %s:%s", self._topic, self._settings.host,
                 self._settings.port)
        self._backoff = INITIAL_BACKOFF_S
        self._call_soon(self._connection_changed, True)

    def _on_publish(self, client: paho.Client, qos: int, message_id: int, topic: bytes,
                    payload: bytes) -> None:
        ack = partial(self._acks.append, (client, message_id)) if qos else (
            _nothing_to_acknowledge)
        self._batch.append(Delivery(topic.decode(errors="replace"), payload, time.time_ns(),
                                    ack))


_PUBACK_HEADER = bytes([paho.PUBACK, 2])


def _nothing_to_acknowledge() -> None:
    return None


async def _consume(settings: MqttSettings, deliver: Deliver, connected: asyncio.Event | None,
                   *, subscription: str | None, qos: int | None, client_id: str | None,
                   persistent: bool, connected_gauge: Gauge | None, manual_ack: bool) -> None:
    topic = subscription or settings.subscription
    backoff = 0.5
    while True:
        try:
            client = mqtt_client(settings, client_id=client_id, persistent=persistent)
            client._client.manual_ack_set(manual_ack)  # aiomqtt 2.5 has no option for it
            async with client:
                await client.subscribe(topic, qos=settings.qos if qos is None else qos)
                log.info("subscribed to %s on %s:%s", topic, settings.host, settings.port)
                if connected_gauge is not None:
                    connected_gauge.set(1)
                if connected is not None:
                    connected.set()
                backoff = 0.5
                async for message in client.messages:
                    await deliver(client, message)
        except aiomqtt.MqttError as exc:
            if connected_gauge is not None:
                connected_gauge.set(0)
            if connected is not None:
                connected.clear()
            delay = backoff * random.uniform(0.5, 1.0)
            log.warning("broker connection lost (%s); reconnecting in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            backoff = min(backoff * 2, MAX_BACKOFF_S)


def payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode()


class Publisher:
    """A long-lived connection for what EstateOps itself publishes (alerts); a publish after
    the broker went away reconnects once before it gives up."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._client: aiomqtt.Client | None = None

    async def publish(self, topic: str, payload: str | bytes, qos: int = 1,
                      retain: bool = False) -> None:
        for attempt in (1, 2):
            client = await self._connected()
            try:
                await client.publish(topic, payload, qos=qos, retain=retain)
                return
            except aiomqtt.MqttError:
                await self.aclose()
                if attempt == 2:
                    raise

    async def _connected(self) -> aiomqtt.Client:
        if self._client is None:
            client = mqtt_client(self._settings, client_id=self._client_id, persistent=False)
            await client.__aenter__()
            self._client = client
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(None, None, None)
