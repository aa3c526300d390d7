"""The webhook endpoint's HTTP contract: verification, signature, malformed and oversize bodies."""

from __future__ import annotations

import json

from gw_harness import SECRET, eventually, guest_number
from gw_payloads import envelope, msg
from posada_gateway.channels.whatsapp.signature import sign


async def test_get_verification_echoes_the_challenge_only_with_the_right_token(gateway, sim, http):
    gw = await gateway()
    ok = await sim.control("POST", "verify", json={"challenge": "8413972605"})
    assert ok == {"ok": True, "status": 200, "body": "8413972605", "challenge": "8413972605"}
    bad = await sim.control("POST", "verify", json={"verify_token": "wrong"})
    assert bad["ok"] is False and bad["status"] == 403
    async with http.get(
        gw.webhook_url, params={"hub.mode": "subscribe", "hub.challenge": "1"}
    ) as resp:
        assert resp.status == 403
    async with http.get(gw.webhook_url.replace("/webhooks/whatsapp", "/healthz")) as resp:
        assert resp.status == 200 and (await resp.json())["ok"] is True
    await gw.stop()


async def test_bad_or_missing_signature_is_401_and_stores_nothing(gateway, sim, conversation):
    gw = await gateway()
    guest = guest_number()
    payload = envelope(
        messages=[msg("text", {"body": "forged"}, id="wamid.FORGED-" + guest, frm=guest)]
    )
    for signature in ("invalid", "missing"):
        res = await sim.control(
            "POST", "webhook/raw", json={"payload": payload, "signature": signature}
        )
        assert res["status"] == 401
    assert not await gw.gw.store.redis.exists("gw:seen:wamid.FORGED-" + guest)
    ok = await sim.control("POST", "webhook/raw", json={"payload": payload, "signature": "valid"})
    assert ok["status"] == 200
    await sim.wait_sent(guest, 1)
    assert conversation.calls_for("wamid.FORGED-" + guest)
    await gw.stop()


async def test_malformed_json_is_400(gateway, sim, http):
    gw = await gateway()
    res = await sim.control("POST", "webhook/raw", json={"body": "{not json", "signature": "valid"})
    assert res["status"] == 400
    raw = b"[1, 2]"
    async with http.post(
        gw.webhook_url, data=raw, headers={"X-Hub-Signature-256": sign(SECRET, raw)}
    ) as resp:
        assert resp.status == 400
    await gw.stop()


async def test_body_over_three_megabytes_is_413_and_three_megabytes_pass(gateway, http):
    gw = await gateway()
    big = b'{"object":"whatsapp_business_account","pad":"' + b"x" * (3 * 1024 * 1024) + b'"}'
    async with http.post(
        gw.webhook_url, data=big, headers={"X-Hub-Signature-256": sign(SECRET, big)}
    ) as resp:
        assert resp.status == 413
    near = b'{"object":"whatsapp_business_account","pad":"' + b"x" * (3 * 1024 * 1024 - 100) + b'"}'
    async with http.post(
        gw.webhook_url, data=near, headers={"X-Hub-Signature-256": sign(SECRET, near)}
    ) as resp:
        assert resp.status == 200

    # chunked (no Content-Length) over the limit is refused as well
    async def chunks():
        for _ in range(4):
            yield b"x" * (1024 * 1024)

    async with http.post(
        gw.webhook_url, data=chunks(), headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}
    ) as resp:
        assert resp.status == 413
    await gw.stop()


async def test_every_reference_payload_type_is_accepted_and_handed_on(gateway, http, conversation):
    from gw_payloads import BY_TYPE

    gw = await gateway()
    guest = guest_number()
    items = []
    for name, item in BY_TYPE.items():
        item = {**item, "id": f"wamid.{name}-{guest}", "from": guest}
        if name in ("voice", "audio_file"):
            continue  # media ids unknown to the sim: covered by the voice-note test
        items.append(item)
    body = json.dumps(
        envelope(messages=items, contacts=[{"profile": {"name": "Lena"}, "wa_id": guest}])
    ).encode()
    async with http.post(
        gw.webhook_url, data=body, headers={"X-Hub-Signature-256": sign(SECRET, body)}
    ) as resp:
        assert resp.status == 200
    await eventually(lambda: all(conversation.calls_for(i["id"]) for i in items), within=15)
    kinds = {
        c.message_id.split(".")[1].rsplit("-", 1)[0]: c.kind
        for c in conversation.calls
        if c.message_id.endswith(guest)
    }
    from hotel.channel.v1 import message_pb2 as m

    assert kinds["text"] == m.MESSAGE_KIND_TEXT
    assert kinds["list_reply"] == m.MESSAGE_KIND_INTERACTIVE_REPLY
    assert kinds["template_button"] == m.MESSAGE_KIND_TEMPLATE_BUTTON
    assert kinds["unsupported"] == m.MESSAGE_KIND_UNSUPPORTED
    assert kinds["location"] == m.MESSAGE_KIND_LOCATION
    await gw.stop()


async def test_redis_unavailable_answers_503_so_meta_redelivers(http):
    import structlog
    from aiohttp.test_utils import TestServer
    from posada_common.redis import connect_redis
    from posada_common.testing import free_port
    from posada_gateway.channels.registry import ChannelRegistry
    from posada_gateway.channels.whatsapp.adapter import WhatsAppAdapter, WhatsAppConfig
    from posada_gateway.http import build_http_app
    from posada_gateway.store import GatewayStore, StreamNames

    dead = connect_redis(f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.2)
    store = GatewayStore(dead, StreamNames())
    registry = ChannelRegistry()
    registry.register(
        WhatsAppAdapter(
            store,
            None,  # type: ignore[arg-type]  # no Graph calls in this test
            None,  # type: ignore[arg-type]
            WhatsAppConfig(
                default_phone_number_id="1",
                app_secrets=[SECRET],
                verify_token="v",
                hotel_for=lambda _p: "1",
            ),
            log=structlog.get_logger(),
        )
    )
    app = build_http_app(store, registry)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        raw = json.dumps(envelope(messages=[msg("text", {"body": "x"}, id="wamid.R503")])).encode()
        async with http.post(
            server.make_url("/webhooks/whatsapp"),
            data=raw,
            headers={"X-Hub-Signature-256": sign(SECRET, raw)},
        ) as resp:
            assert resp.status == 503
        async with http.get(server.make_url("/healthz")) as resp:
            assert resp.status == 503
    finally:
        await server.close()
        await dead.aclose()
