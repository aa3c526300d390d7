"""Redis state rules (real Redis): atomic dedupe+append, monotonic statuses, settings checks."""

from __future__ import annotations

import uuid

import pytest
from hotel.channel.v1 import message_pb2 as m
from posada_common.redis import connect_redis
from posada_common.settings import SettingsError, load_settings
from posada_common.testing import shared_test_credentials
from posada_gateway.channels.whatsapp.parser import StatusUpdate
from posada_gateway.settings import GatewaySettings
from posada_gateway.store import GatewayStore, StreamNames

S = m.DeliveryStatus


@pytest.fixture
async def store(redis_url):
    r = connect_redis(redis_url)
    tag = uuid.uuid4().hex[:8]
    st = GatewayStore(
        r, StreamNames(inbox=f"gw:t:{tag}:in", status=f"gw:t:{tag}:st", dlq=f"gw:t:{tag}:dlq")
    )
    await st.ensure_groups()
    yield st
    await r.aclose()


async def test_same_message_twice_in_one_batch_is_appended_once(store):
    wamid = "wamid.S-" + uuid.uuid4().hex
    msg = m.InboundMessage(message_id=wamid, text="hi")
    assert await store.accept_messages([msg, msg]) == [True, False]
    assert await store.accept_messages([msg]) == [False]
    assert await store.redis.xlen(store.streams.inbox) == 1


async def test_statuses_only_move_forward_and_failed_is_terminal(store):
    wamid = "wamid.S-" + uuid.uuid4().hex

    def st(status: int, **kw) -> StatusUpdate:
        return StatusUpdate(
            message_id=wamid, status=status, timestamp=1, business_account_id="pn", **kw
        )

    # read arrives before sent and delivered (allowed by Meta); the late ones change nothing
    assert await store.apply_statuses(
        [
            st(S.DELIVERY_STATUS_READ),
            st(S.DELIVERY_STATUS_SENT),
            st(S.DELIVERY_STATUS_DELIVERED),
            st(S.DELIVERY_STATUS_READ),
        ]
    ) == [True, False, False, False]
    assert (await store.message(wamid))["status"] == "DELIVERY_STATUS_READ"
    assert await store.apply_statuses([st(S.DELIVERY_STATUS_PLAYED)]) == [True]
    other = "wamid.S-" + uuid.uuid4().hex
    failed = StatusUpdate(
        message_id=other,
        status=S.DELIVERY_STATUS_FAILED,
        timestamp=2,
        business_account_id="pn",
        errors=[{"code": 131026, "title": "x", "detail": "y"}],
    )
    late = StatusUpdate(
        message_id=other, status=S.DELIVERY_STATUS_PLAYED, timestamp=3, business_account_id="pn"
    )
    assert await store.apply_statuses([failed, late]) == [True, False]
    rec = await store.message(other)
    assert rec["status"] == "DELIVERY_STATUS_FAILED" and "131026" in rec["errors"]
    # one forward event per status that changed something
    assert await store.redis.xlen(store.streams.status) == 3


async def test_sender_record_never_downgrades_a_faster_status_webhook(store):
    wamid = "wamid.S-" + uuid.uuid4().hex
    await store.apply_statuses(
        [
            StatusUpdate(
                message_id=wamid,
                status=S.DELIVERY_STATUS_DELIVERED,
                timestamp=1,
                business_account_id="pn",
            )
        ]
    )
    await store.record_sent(
        wamid=wamid,
        recipient="49",
        pnid="pn",
        conversation_id="c",
        reply_id="r",
        inbound_id="in-" + wamid,
        reply_key="r",
    )
    rec = await store.message(wamid)
    assert rec["status"] == "DELIVERY_STATUS_DELIVERED" and rec["conversation"] == "c"
    assert await store.sent_replies("in-" + wamid) == {"r": wamid}


def test_production_refuses_placeholder_secrets_and_parses_hotel_map(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(SettingsError):
        load_settings(GatewaySettings)
    for var, value in {
        "WHATSAPP_APP_SECRET": "s3cr3t-from-vault",
        "WHATSAPP_VERIFY_TOKEN": "v3rify-from-vault",
        "WHATSAPP_ACCESS_TOKEN": "EAAGm0PX4ZCpsBA",
        "WHATSAPP_HOTEL_MAP": "111=7, 222=9",
        "HOTEL_ID": "3",
        **shared_test_credentials().env_for("gateway"),
    }.items():
        monkeypatch.setenv(var, value)
    s = load_settings(GatewaySettings)
    assert s.hotel_for("111") == "7" and s.hotel_for("222") == "9" and s.hotel_for("333") == "3"
    monkeypatch.setenv("WHATSAPP_API_VERSION", "23")
    with pytest.raises(SettingsError):
        load_settings(GatewaySettings)
