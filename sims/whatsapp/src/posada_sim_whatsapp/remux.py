"""Repackage a WebM/Opus recording (Chrome's MediaRecorder) as OGG/Opus without re-encoding.

WhatsApp voice notes are OGG with the Opus codec (docs/external-apis/whatsapp.md#payloads, docs/external-apis/whatsapp.md#media). Chrome records WebM
(Matroska) with the very same Opus packets, so the simulator only has to move the packets from
one container into the other: the Opus header from the track's CodecPrivate, an OpusTags page,
then the audio packets with granule positions counted in 48 kHz samples (RFC 7845).
"""

from __future__ import annotations

import os
import struct

# Matroska element ids we descend into (master elements) and the ones we read.
_MASTERS = {
    0x18538067,  # Segment
    0x1F43B675,  # Cluster
    0x1654AE6B,  # Tracks
    0xAE,  # TrackEntry
    0xA0,  # BlockGroup
    0xE1,  # Audio
}
_EBML = 0x1A45DFA3
_TRACK_NUMBER = 0xD7
_CODEC_ID = 0x86
_CODEC_PRIVATE = 0x63A2
_CHANNELS = 0x9F
_SIMPLE_BLOCK = 0xA3
_BLOCK = 0xA1


class RemuxError(ValueError):
    pass


def _read_id(buf: bytes, pos: int) -> tuple[int, int]:
    first = buf[pos]
    length = 1
    mask = 0x80
    while length <= 4 and not first & mask:
        mask >>= 1
        length += 1
    if length > 4 or pos + length > len(buf):
        raise RemuxError("bad element id")
    return int.from_bytes(buf[pos : pos + length], "big"), pos + length


def _read_size(buf: bytes, pos: int) -> tuple[int | None, int]:
    first = buf[pos]
    length = 1
    mask = 0x80
    while length <= 8 and not first & mask:
        mask >>= 1
        length += 1
    if length > 8 or pos + length > len(buf):
        raise RemuxError("bad element size")
    value = first & (mask - 1)
    for b in buf[pos + 1 : pos + length]:
        value = (value << 8) | b
    if value == (1 << (7 * length)) - 1:
        return None, pos + length  # unknown size (live MediaRecorder output)
    return value, pos + length


def _read_vint(buf: bytes, pos: int) -> tuple[int, int]:
    size, end = _read_size(buf, pos)
    if size is None:
        raise RemuxError("bad track number")
    return size, end


def webm_opus_packets(data: bytes) -> tuple[bytes | None, int, list[bytes]]:
    """Return (OpusHead or None, channels, packets) of the first Opus track."""
    if not data.startswith(b"\x1a\x45\xdf\xa3"):
        raise RemuxError("not a WebM/Matroska file")
    pos = 0
    tracks: dict[int, dict] = {}
    current: dict = {}
    blocks: list[tuple[int, bytes]] = []
    n = len(data)
    while pos < n:
        try:
            eid, p = _read_id(data, pos)
            size, p = _read_size(data, p)
        except (RemuxError, IndexError):
            break  # truncated tail (recording stopped mid-element)
        if eid in _MASTERS:
            if eid == 0xAE:
                current = {}
                tracks[id(current)] = current
            pos = p  # descend: children follow immediately
            continue
        if size is None:
            raise RemuxError("unknown-size leaf element")
        end = p + size
        if end > n:
            break
        payload = data[p:end]
        if eid == _TRACK_NUMBER:
            current["number"] = int.from_bytes(payload, "big")
        elif eid == _CODEC_ID:
            current["codec"] = payload.decode("ascii", "replace")
        elif eid == _CODEC_PRIVATE:
            current["private"] = payload
        elif eid == _CHANNELS:
            current["channels"] = int.from_bytes(payload, "big")
        elif eid in (_SIMPLE_BLOCK, _BLOCK):
            track_no, q = _read_vint(payload, 0)
            flags = payload[q + 2]
            if flags & 0x06:
                raise RemuxError("laced blocks are not supported")
            blocks.append((track_no, payload[q + 3 :]))
        pos = end
    opus = [t for t in tracks.values() if t.get("codec") == "A_OPUS"]
    if not opus:
        raise RemuxError("no Opus track")
    track = opus[0]
    packets = [frame for number, frame in blocks if number == track.get("number", 1) and frame]
    if not packets:
        raise RemuxError("no audio packets")
    return track.get("private"), track.get("channels", 1), packets


def opus_samples(packet: bytes) -> int:
    """Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 §3.1)."""
    toc = packet[0]
    config = toc >> 3
    if config < 12:
        frame = (480, 960, 1920, 2880)[config % 4]
    elif config < 16:
        frame = (480, 960)[config % 2]
    else:
        frame = (120, 240, 480, 960)[config % 4]
    code = toc & 0x03
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        frames = packet[1] & 0x3F if len(packet) > 1 else 1
    return frame * frames


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) & 0xFF) ^ b]
    return crc


def _page(serial: int, seq: int, granule: int, packets: list[bytes], flags: int) -> bytes:
    lacing = bytearray()
    for pkt in packets:
        lacing += b"\xff" * (len(pkt) // 255) + bytes([len(pkt) % 255])
    if len(lacing) > 255:
        raise RemuxError("too many segments on one page")
    header = (
        struct.pack("<4sBBqIII", b"OggS", 0, flags, granule, serial, seq, 0)
        + bytes([len(lacing)])
        + lacing
    )
    page = bytearray(header + b"".join(packets))
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return bytes(page)


def opus_head(channels: int = 1, pre_skip: int = 312, rate: int = 48000) -> bytes:
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, pre_skip, rate, 0, 0)


def ogg_opus(head: bytes, packets: list[bytes], serial: int | None = None) -> bytes:
    serial = serial if serial is not None else int.from_bytes(os.urandom(4), "little")
    vendor = b"posada-sim-whatsapp"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    out = [_page(serial, 0, 0, [head], 0x02), _page(serial, 1, 0, [tags], 0x00)]
    seq, granule = 2, 0
    page: list[bytes] = []
    segments = 0
    for i, pkt in enumerate(packets):
        need = len(pkt) // 255 + 1
        if page and (segments + need > 255 or len(page) >= 50):
            out.append(_page(serial, seq, granule, page, 0x00))
            seq, page, segments = seq + 1, [], 0
        page.append(pkt)
        segments += need
        granule += opus_samples(pkt)
        if i == len(packets) - 1:
            out.append(_page(serial, seq, granule, page, 0x04))
    return b"".join(out)


def webm_to_ogg(data: bytes) -> bytes:
    head, channels, packets = webm_opus_packets(data)
    if not head or not head.startswith(b"OpusHead"):
        head = opus_head(channels)
    return ogg_opus(head, packets)
