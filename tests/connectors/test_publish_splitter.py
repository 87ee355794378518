"""The gateway's reader splits a socket's bytes into PUBLISH packets: a message larger than a
read arrives whole, and the bytes of a large message are not copied again at every read
(a 20 MB message from one device would otherwise stall every other device's messages)."""

from __future__ import annotations

import contextlib

from connectors import mqtt
from connectors.mqtt import _PublishSplitter

CHUNK = 64 * 1024


class ChunkedSocket:
    """A socket whose reads return at most CHUNK bytes of `data`, then nothing more."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def recv(self, size: int) -> bytes:
        piece = self._data[self._position:self._position + min(size, CHUNK)]
        self._position += len(piece)
        if not piece:
            raise BlockingIOError
        return piece


def _publish_packet(topic: bytes, payload: bytes, message_id: int) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic + message_id.to_bytes(2, "big") + payload
    length, encoded = len(body), bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes([0x32]) + bytes(encoded) + body  # PUBLISH, QoS 1


class CountingSplitter(_PublishSplitter):
    scanned = 0

    def _split(self, data: bytes) -> tuple[bytes, int]:
        self.scanned += len(data)
        return super()._split(data)


def test_a_message_larger_than_a_read_arrives_whole_and_is_copied_once() -> None:
    big = bytes(range(256)) * (4 * 1024 * 1024 // 256)  # 4 MiB, 64 reads
    stream = (_publish_packet(b"estates/e/leak_sensor/d1/telemetry", big, 7)
              + _publish_packet(b"estates/e/leak_sensor/d2/telemetry", b'{"leak":true}', 8))
    got: list[tuple[int, int, bytes, bytes]] = []
    splitter = CountingSplitter(ChunkedSocket(stream),
                                lambda *message: got.append(message))
    for _ in range(len(stream) // CHUNK + 2):
        with contextlib.suppress(BlockingIOError):
            splitter.recv(mqtt.READ_AHEAD_BYTES)
    assert [(qos, mid, topic) for qos, mid, topic, _ in got] == [
        (1, 7, b"estates/e/leak_sensor/d1/telemetry"),
        (1, 8, b"estates/e/leak_sensor/d2/telemetry")]
    assert got[0][3] == big
    assert splitter.scanned < 2 * len(stream), (
        f"{splitter.scanned / len(stream):.0f} times the stream's bytes were scanned")
