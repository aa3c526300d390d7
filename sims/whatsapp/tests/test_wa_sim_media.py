"""Media: multipart upload, resolve, authenticated download, URL expiry, WhatsApp's type rules, WebM→OGG."""

from __future__ import annotations

import asyncio
import hashlib
import struct

from posada_sim_whatsapp.remux import opus_samples, webm_to_ogg
from wa_sim_harness import PNID, ogg_opus_bytes


async def test_upload_resolve_and_download_with_token(graph, http):
    ogg = ogg_opus_bytes(20)
    status, up = await graph.upload(ogg, "audio/ogg", "reply.ogg")
    assert status == 200 and up["id"].isdigit()
    async with http.get(
        f"{graph.base}/v21.0/{up['id']}?phone_number_id={PNID}", headers=graph.headers
    ) as resp:
        info = await resp.json()
    assert resp.status == 200
    assert info["messaging_product"] == "whatsapp"
    assert info["id"] == up["id"] and info["mime_type"] == "audio/ogg"
    assert info["sha256"] == hashlib.sha256(ogg).hexdigest() and info["file_size"] == len(ogg)
    async with http.get(info["url"], headers=graph.headers) as resp:
        data = await resp.read()
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("audio/ogg")
    assert data == ogg
    async with http.get(info["url"]) as resp:  # without the bearer token
        assert resp.status == 401
    async with http.get(info["url"].replace("hash=", "hash=x"), headers=graph.headers) as resp:
        assert resp.status == 404


async def test_download_url_expires_and_resolving_again_works(graph, http):
    await graph.control("POST", "config", json={"media_url_ttl_s": 1})
    _, up = await graph.upload(b"\xff\xd8\xff\xe0" + b"\x00" * 50, "image/jpeg", "a.jpg")
    async with http.get(f"{graph.base}/v21.0/{up['id']}", headers=graph.headers) as resp:
        url = (await resp.json())["url"]
    await asyncio.sleep(2.1)
    async with http.get(url, headers=graph.headers) as resp:
        assert resp.status == 404
    async with http.get(f"{graph.base}/v21.0/{up['id']}", headers=graph.headers) as resp:
        url = (await resp.json())["url"]
    async with http.get(url, headers=graph.headers) as resp:
        assert resp.status == 200


async def test_inbound_guest_media_is_downloadable_by_the_gateway(graph, http, receiver):
    import base64

    ogg = ogg_opus_bytes()
    _, res = await graph.control(
        "POST",
        "inbound",
        json={
            "from": "34600111222",
            "type": "voice",
            "audio": {"data_base64": base64.b64encode(ogg).decode()},
        },
    )
    media_id = res["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]["id"]
    async with http.get(f"{graph.base}/v21.0/{media_id}", headers=graph.headers) as resp:
        info = await resp.json()
    assert info["mime_type"] == "audio/ogg; codecs=opus"
    async with http.get(info["url"], headers=graph.headers) as resp:
        assert await resp.read() == ogg


async def test_upload_rules_are_131053(graph):
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40
    status, body = await graph.upload(wav, "audio/wav", "a.wav")
    assert status == 400 and body["error"]["code"] == 131053
    vorbis = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis" + b"\x00" * 40
    status, body = await graph.upload(vorbis, "audio/ogg", "a.ogg")
    assert (
        status == 400
        and body["error"]["code"] == 131053
        and "Opus" in body["error"]["error_data"]["details"]
    )
    status, body = await graph.upload(
        b"\xff\xd8\xff\xe0" + b"\x00" * 10, "audio/ogg", "a.ogg"
    )  # a JPEG claimed as OGG
    assert status == 400 and body["error"]["code"] == 131053
    status, body = await graph.upload(b"\x00" * (5 * 1024 * 1024 + 1), "image/png", "big.png")
    assert status == 400 and body["error"]["code"] == 131053
    status, _ = await graph.upload(b"%PDF-1.7 ...", "application/pdf", "invoice.pdf")
    assert status == 200


async def test_upload_requires_messaging_product_and_token(graph, http):
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("type", "image/jpeg")
    form.add_field("file", b"\xff\xd8\xff\xe0", filename="a.jpg", content_type="image/jpeg")
    async with http.post(
        f"{graph.base}/v21.0/{PNID}/media", data=form, headers=graph.headers
    ) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["code"] == 100
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    async with http.post(f"{graph.base}/v21.0/{PNID}/media", data=form) as resp:
        assert resp.status == 401


async def test_deleted_media_is_gone(graph, http):
    _, up = await graph.upload(b"\xff\xd8\xff\xe0" + b"\x00" * 10, "image/jpeg", "a.jpg")
    async with http.delete(f"{graph.base}/v21.0/{up['id']}", headers=graph.headers) as resp:
        assert (await resp.json()) == {"success": True}
    async with http.get(f"{graph.base}/v21.0/{up['id']}", headers=graph.headers) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["code"] == 100


# ---------------------------------------------------------------- WebM/Opus → OGG/Opus remux
def ebml(eid: int, payload: bytes, unknown: bool = False) -> bytes:
    id_bytes = eid.to_bytes((eid.bit_length() + 7) // 8, "big")
    if unknown:
        return id_bytes + b"\x01\xff\xff\xff\xff\xff\xff\xff" + payload
    return id_bytes + bytes([0x01]) + len(payload).to_bytes(7, "big") + payload


def make_webm(packets: list[bytes], head: bytes) -> bytes:
    track = ebml(
        0xAE,
        ebml(0xD7, b"\x01")
        + ebml(0x86, b"A_OPUS")
        + ebml(0x63A2, head)
        + ebml(0xE1, ebml(0x9F, b"\x01")),
    )
    blocks = b"".join(
        ebml(0xA3, b"\x81" + struct.pack(">h", i * 20) + b"\x80" + p) for i, p in enumerate(packets)
    )
    cluster = ebml(
        0x1F43B675, ebml(0xE7, b"\x00") + blocks, unknown=True
    )  # Chrome writes unknown sizes
    segment = ebml(0x18538067, ebml(0x1654AE6B, track) + cluster, unknown=True)
    return ebml(0x1A45DFA3, ebml(0x4282, b"webm")) + segment


def independent_ogg_crc(page: bytes) -> int:
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = (
                ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF
                if crc & 0x80000000
                else (crc << 1) & 0xFFFFFFFF
            )
    return crc


def parse_ogg(data: bytes) -> list[dict]:
    pages, pos = [], 0
    while pos < len(data):
        assert data[pos : pos + 4] == b"OggS"
        flags, granule, serial, seq, crc, nseg = struct.unpack_from("<xBqIIIB", data, pos + 4)
        lacing = data[pos + 27 : pos + 27 + nseg]
        size = 27 + nseg + sum(lacing)
        page = bytearray(data[pos : pos + size])
        page[22:26] = b"\x00\x00\x00\x00"
        assert independent_ogg_crc(bytes(page)) == crc
        body, packets, cur, off = data[pos + 27 + nseg : pos + size], [], b"", 0
        for lace in lacing:
            cur += body[off : off + lace]
            off += lace
            if lace < 255:
                packets.append(cur)
                cur = b""
        pages.append(
            {"flags": flags, "granule": granule, "serial": serial, "seq": seq, "packets": packets}
        )
        pos += size
    return pages


def test_webm_opus_is_repackaged_as_ogg_opus_without_reencoding():
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    packets = [
        bytes([0xF8]) + bytes([i % 256]) * (10 + i * 7) for i in range(120)
    ]  # 20 ms CELT frames
    packets.append(
        bytes([0xFB, 0x03]) + b"\x01" * 300
    )  # code 3: 3 frames, > 255 bytes (multi-segment)
    ogg = webm_to_ogg(make_webm(packets, head))
    pages = parse_ogg(ogg)
    assert pages[0]["packets"] == [head] and pages[0]["flags"] == 0x02
    assert pages[1]["packets"][0].startswith(b"OpusTags")
    assert pages[-1]["flags"] == 0x04
    assert [p["seq"] for p in pages] == list(range(len(pages)))
    assert len({p["serial"] for p in pages}) == 1
    audio = [pkt for p in pages[2:] for pkt in p["packets"]]
    assert audio == packets
    assert pages[-1]["granule"] == 120 * 960 + 3 * 960
    assert opus_samples(bytes([0xF8])) == 960 and opus_samples(bytes([0x08])) == 960 * 2 // 2
    # every page's granule is the sample count up to its last packet
    total = 0
    for p in pages[2:]:
        total += sum(opus_samples(pkt) for pkt in p["packets"])
        assert p["granule"] == total


async def test_browser_webm_voice_note_reaches_the_webhook_as_ogg_opus(graph, http, receiver):
    import aiohttp

    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    webm = make_webm([bytes([0xF8, 0xFF, 0xFE])] * 50, head)
    form = aiohttp.FormData()
    form.add_field("file", webm, filename="voice.webm", content_type="audio/webm;codecs=opus")
    form.add_field("type", "audio/webm;codecs=opus")
    async with http.post(f"{graph.base}/sim/media", data=form) as resp:
        up = await resp.json()
    assert up["mime_type"] == "audio/ogg; codecs=opus"
    await graph.control(
        "POST",
        "inbound",
        json={"from": "34600111222", "type": "voice", "audio": {"media_id": up["id"]}},
    )
    audio = receiver.messages()[-1]["audio"]
    assert audio["mime_type"] == "audio/ogg; codecs=opus" and audio["voice"] is True
    async with http.get(f"{graph.base}/sim/media/{up['id']}") as resp:
        data = await resp.read()
    assert data.startswith(b"OggS") and b"OpusHead" in data[:100]
