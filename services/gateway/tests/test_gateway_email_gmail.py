"""The gateway in Gmail API mode against the Gmail stand-in, real Redis and a real gRPC
conversation: pushes are authenticated, history is synced, replies go out in the thread."""

from __future__ import annotations

import base64
import email
import email.policy
import time
import uuid
from typing import Any

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from email_samples import AUTO_REPLY, BOUNCE, LIST_MAIL, as_bytes
from gw_harness import eventually
from hotel.channel.v1 import message_pb2 as m
from posada_sim_gmail import GmailSim, SimConfig, compose_raw, start_simulator

AUDIENCE = "https://gw.posada.test/webhooks/gmail"


class GmailStandIn:
    def __init__(self, base: str, sim: GmailSim, http: aiohttp.ClientSession):
        self.base = base
        self.sim = sim
        self.http = http

    @property
    def address(self) -> str:
        return self.sim.config.address

    async def deliver(self, raw: bytes) -> dict[str, Any]:
        """A guest's e-mail arrives in the hotel's inbox (users.messages.import)."""
        async with self.http.post(
            f"{self.base}/gmail/v1/users/me/messages/import",
            json={"raw": base64.urlsafe_b64encode(raw).decode()},
            headers={"Authorization": f"Bearer {self.sim.config.sim_token}"},
        ) as resp:
            assert resp.status == 200
            return await resp.json()

    def sent(self) -> list[Any]:
        return [x for x in self.sim.mailbox.messages.values() if "SENT" in x.label_ids]

    def sent_in(self, thread_id: str) -> list[Any]:
        return [x for x in self.sent() if x.thread_id == thread_id]

    async def token(self, **claims: Any) -> str:
        async with self.http.post(f"{self.base}/control/push-token", json=claims) as resp:
            return str((await resp.json())["token"])


@pytest.fixture
async def gmail_standin():
    config = SimConfig(
        address=f"reservas-{uuid.uuid4().hex[:8]}@posada-test.example",
        sim_token="test-gmail-token",
        push_audience=AUDIENCE,
        push_min_interval_ms=0,
        push_retry_base_ms=50,
    )
    runner, base, sim = await start_simulator(config)
    async with aiohttp.ClientSession() as http:
        yield GmailStandIn(base, sim, http)
    await runner.cleanup()


@pytest.fixture
def email_gateway(gateway, gmail_standin: GmailStandIn):
    async def start(**overrides: Any) -> Any:
        cfg = gmail_standin.sim.config
        running = await gateway(
            email_mode="gmail",
            email_address=cfg.address,
            email_hotel_name="Posada Test",
            gmail_api_base=gmail_standin.base,
            gmail_token_uri=f"{gmail_standin.base}/token",
            gmail_client_id=cfg.client_id,
            gmail_client_secret=cfg.client_secret,
            gmail_refresh_token=cfg.refresh_token,
            gmail_topic=cfg.topic,
            gmail_push_audience=AUDIENCE,
            gmail_push_service_account=cfg.push_service_account,
            gmail_push_subscription=cfg.subscription,
            gmail_push_jwks_url=f"{gmail_standin.base}/oauth2/v3/certs",
            gmail_sweep_seconds=overrides.pop("gmail_sweep_seconds", 30),
            **overrides,
        )
        cfg.push_url = f"http://127.0.0.1:{running.gw.http_port}/webhooks/gmail"
        # Watch renewed at start: the stand-in knows where to push.
        await eventually(lambda: gmail_standin.sim.publisher.watching, within=10)
        adapter = running.gw.registry.get(m.CHANNEL_GMAIL)
        await eventually(lambda: adapter.mail.history_id(cfg.address), within=10)
        return running

    return start


def guest_raw(
    subject: str, text: str, sender: str = "Ana García <ana@example.org>", **kw: Any
) -> bytes:
    name, _, addr = sender.partition(" <")
    return compose_raw(
        from_name=name if addr else "",
        from_email=addr.rstrip(">") if addr else sender,
        to="reservas@posada-test.example",
        subject=subject,
        text=text,
        in_reply_to=kw.get("refs", []),
    )


def parsed(stored: Any) -> email.message.EmailMessage:
    msg = email.message_from_bytes(stored.raw, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


async def test_a_guest_email_gets_one_threaded_reply(email_gateway, gmail_standin, conversation):
    await email_gateway()
    raw = guest_raw("Habitación — disponibilidad", "Hola, ¿tienen habitación doble?")
    added = await gmail_standin.deliver(raw)
    replies = await eventually(lambda: gmail_standin.sent_in(added["threadId"]), within=15)
    assert len(replies) == 1
    reply = parsed(replies[0])
    original = email.message_from_bytes(raw, policy=email.policy.default)
    assert reply["Subject"] == "Re: Habitación — disponibilidad"
    assert reply["In-Reply-To"] == original["Message-ID"]
    assert reply["References"] == original["Message-ID"]
    assert reply["To"] == "Ana García <ana@example.org>"
    text = reply.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Dear Ana,") and "echo: Hola, ¿tienen habitación doble?" in text
    assert "Posada Test" in text
    assert reply.get_body(preferencelist=("html",)) is not None
    (call,) = conversation.calls
    assert call.channel == m.CHANNEL_GMAIL and call.guest.email == "ana@example.org"
    assert call.thread_id == added["threadId"] and call.subject == "Habitación — disponibilidad"
    # google-auth refreshed an access token at the stand-in's token endpoint.
    assert gmail_standin.sim.tokens


async def test_the_same_email_delivered_twice_gets_one_reply(
    email_gateway, gmail_standin, conversation
):
    await email_gateway()
    raw = guest_raw("Parking", "¿Tienen parking?")
    first = await gmail_standin.deliver(raw)
    await eventually(lambda: gmail_standin.sent_in(first["threadId"]), within=15)
    await gmail_standin.deliver(raw)  # a second copy of the same e-mail (same Message-ID)
    barrier = await gmail_standin.deliver(guest_raw("Otra", "¿Y desayuno?"))
    await eventually(lambda: gmail_standin.sent_in(barrier["threadId"]), within=15)
    assert len(gmail_standin.sent()) == 2
    assert len(conversation.calls) == 2


async def test_robot_mail_gets_no_answer(email_gateway, gmail_standin, conversation):
    await email_gateway()
    for sample in (AUTO_REPLY, BOUNCE, LIST_MAIL):
        await gmail_standin.deliver(as_bytes(sample))
    barrier = await gmail_standin.deliver(guest_raw("Hola", "¿Admiten perros?"))
    await eventually(lambda: gmail_standin.sent_in(barrier["threadId"]), within=15)
    assert len(gmail_standin.sent()) == 1
    assert [c.text for c in conversation.calls] == ["¿Admiten perros?"]


async def test_pushes_with_bad_tokens_are_refused_and_change_nothing(
    email_gateway, gmail_standin, conversation
):
    running = await email_gateway()
    url = gmail_standin.sim.config.push_url
    envelope = gmail_standin.sim.publisher.envelope(10**12, "999000111")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {
            "aud": AUDIENCE,
            "iss": "https://accounts.google.com",
            "email": gmail_standin.sim.config.push_service_account,
            "email_verified": True,
            "iat": int(time.time()),
            "exp": int(time.time()) + 600,
        },
        other_key,
        algorithm="RS256",
        headers={"kid": gmail_standin.sim.key.kid},
    )
    bad_tokens = [
        "",
        "Bearer not-a-jwt",
        "Bearer "
        + await gmail_standin.token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "Bearer " + await gmail_standin.token(aud="https://someone-else.example/push"),
        "Bearer " + await gmail_standin.token(iss="https://evil.example"),
        "Bearer " + await gmail_standin.token(email="intruder@evil.iam.gserviceaccount.com"),
        "Bearer " + await gmail_standin.token(email_verified=False),
        "Bearer " + forged,
    ]
    redis = running.gw.store.redis
    for auth in bad_tokens:
        headers = {"Authorization": auth} if auth else {}
        async with gmail_standin.http.post(url, json=envelope, headers=headers) as resp:
            assert resp.status == 401, auth[:40]
    assert not await redis.exists("gw:em:push:999000111")
    # A correct token is accepted (204) for the same envelope.
    good = "Bearer " + await gmail_standin.token()
    async with gmail_standin.http.post(url, json=envelope, headers={"Authorization": good}) as r:
        assert r.status == 204
    assert await redis.exists("gw:em:push:999000111")
    assert conversation.calls == []


async def test_a_dropped_push_is_caught_by_the_sweep(email_gateway, gmail_standin, conversation):
    await email_gateway(gmail_sweep_seconds=0.5)
    gmail_standin.sim.publisher.drop_next = 1
    added = await gmail_standin.deliver(guest_raw("Sin aviso", "¿Hay cuna?"))
    await eventually(lambda: gmail_standin.sim.publisher.dropped == 1, within=5)
    await eventually(lambda: gmail_standin.sent_in(added["threadId"]), within=15)
    assert len(conversation.calls) == 1


async def test_a_history_id_too_old_falls_back_to_a_full_sync(
    email_gateway, gmail_standin, conversation
):
    await email_gateway(gmail_sweep_seconds=0.5)
    gmail_standin.sim.publisher.drop_next = 1
    gmail_standin.sim.mailbox.expire_history()
    added = await gmail_standin.deliver(guest_raw("Tarde", "¿Puedo llegar a las 23h?"))
    gmail_standin.sim.mailbox.expire_history()  # even the new record is gone: 404 for us
    await eventually(lambda: gmail_standin.sent_in(added["threadId"]), within=15)
    assert len(conversation.calls) == 1


async def test_a_written_choice_number_is_mapped_to_the_offered_option(
    email_gateway, gmail_standin, conversation
):
    def offer(msg: m.InboundMessage) -> list[m.Reply]:
        if msg.kind == m.MESSAGE_KIND_INTERACTIVE_REPLY:
            return [m.Reply(reply_id=f"{msg.message_id}:0", text=m.TextReply(body="Reservado."))]
        rows = [m.ListRow(id="room:1", title="Doble"), m.ListRow(id="room:2", title="Suite")]
        return [
            m.Reply(
                reply_id=f"{msg.message_id}:0",
                list=m.ListReply(body="Elija:", sections=[m.ListSection(rows=rows)]),
            )
        ]

    conversation.policy = offer
    await email_gateway()
    first_raw = guest_raw("Reserva", "Quiero reservar")
    first = await gmail_standin.deliver(first_raw)
    (offer_mail,) = await eventually(lambda: gmail_standin.sent_in(first["threadId"]), within=15)
    text = parsed(offer_mail).get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "1. Doble" in text and "2. Suite" in text
    refs = [parsed(x)["Message-ID"] for x in gmail_standin.sim.mailbox.threads()[first["threadId"]]]
    answer = compose_raw(
        from_name="Ana García",
        from_email="ana@example.org",
        to=gmail_standin.address,
        subject="Re: Reserva",
        text="La 2, por favor\n\nEl jue, Posada Test escribió:\n> Elija:\n> 1. Doble",
        in_reply_to=refs,
    )
    second = await gmail_standin.deliver(answer)
    assert second["threadId"] == first["threadId"]
    await eventually(lambda: len(gmail_standin.sent_in(first["threadId"])) == 2, within=15)
    chosen = conversation.calls[-1]
    assert chosen.kind == m.MESSAGE_KIND_INTERACTIVE_REPLY
    assert chosen.interactive_reply.id == "room:2"


async def test_staff_send_message_by_email_goes_into_the_guest_thread_once(
    email_gateway, gmail_standin
):
    from hotel.channel.v1 import channel_service_pb2 as pb

    running = await email_gateway()
    added = await gmail_standin.deliver(guest_raw("Factura", "¿Me envían la factura?"))
    await eventually(lambda: gmail_standin.sent_in(added["threadId"]), within=15)
    stub = running.channel()
    req = pb.SendMessageRequest(
        channel=m.CHANNEL_GMAIL,
        recipient_id="ana@example.org",
        reply=m.Reply(reply_id="staff-1", text=m.TextReply(body="Le adjuntamos la factura.")),
        idempotency_key=f"staff-{uuid.uuid4().hex}",
        subject="Factura",
        thread_id=added["threadId"],
    )
    first = await stub.SendMessage(req)
    second = await stub.SendMessage(req)
    assert second.replayed and second.message_id == first.message_id
    staff = [x for x in gmail_standin.sent_in(added["threadId"]) if x.id == first.message_id]
    assert len(staff) == 1 and len(gmail_standin.sent_in(added["threadId"])) == 2
    text = parsed(staff[0]).get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Le adjuntamos la factura." in text and parsed(staff[0])["Subject"] == "Re: Factura"
    bad = pb.SendMessageRequest(
        channel=m.CHANNEL_GMAIL,
        recipient_id="not-an-address",
        reply=m.Reply(text=m.TextReply(body="x")),
        idempotency_key="k",
    )
    import grpc

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SendMessage(bad)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
