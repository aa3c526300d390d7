"""The channel port's defaults: what a new adapter (e-mail) gets without writing it, and how a
channel plugs in (or is refused when it has no adapter)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from hotel.channel.v1 import channel_service_pb2 as pb
from hotel.channel.v1 import message_pb2 as m
from posada_gateway.channels import (
    ChannelAdapter,
    ChannelRegistry,
    Choice,
    Destination,
    OutboundPart,
    SendResult,
    TurnState,
)


class TextOnly(ChannelAdapter):
    """The smallest adapter: no webhook, text only, remembers what it sent."""

    channel = m.CHANNEL_GMAIL
    name = "text-only"

    def __init__(self) -> None:
        self.sent: list[OutboundPart] = []

    def routes(self, inbox: Any) -> list[Any]:
        return []

    def destination_for(self, msg: m.InboundMessage) -> Destination:
        return Destination(channel=self.channel, account="hotel@example.com", guest_id=msg.guest.id)

    def destination_to(
        self, recipient_id: str, account: str, *, subject: str = "", thread_id: str = ""
    ) -> Destination:
        return Destination(channel=self.channel, account=account, guest_id=recipient_id)

    async def send(self, dest: Destination, part: OutboundPart, *, idempotency: str) -> SendResult:
        self.sent.append(part)
        return SendResult(provider_id=f"id-{len(self.sent)}")


def test_base_class_renders_every_reply_as_text_with_working_choices():
    adapter = TextOnly()
    dest = adapter.destination_to("guest@example.com", "hotel@example.com")
    (choices,) = adapter.render(
        m.Reply(
            buttons=m.ButtonsReply(
                body="¿Qué habitación?",
                buttons=[
                    m.Button(id="offer:1", title="Doble"),
                    m.Button(id="offer:2", title="Suite"),
                ],
            )
        ),
        "es",
        dest,
    )
    assert choices.kind == "text" and "1. Doble" in choices.payload["body"]
    assert "Responde con el número" in choices.payload["body"]
    assert adapter.offered_as_text(choices, SendResult("x"))
    (audio,) = adapter.render(
        m.Reply(audio=m.AudioReply(data=b"OggS", mime_type="audio/ogg", transcript="Hola")),
        "es",
        dest,
    )
    assert audio.payload["body"] == "Hola"
    (place,) = adapter.render(
        m.Reply(location=m.LocationReply(latitude=40.4, longitude=-3.7, name="Hotel Sol")),
        "en",
        dest,
    )
    assert place.payload["body"].startswith("Hotel Sol\nMap: https://")
    assert adapter.render(m.Reply(text=m.TextReply(body="  ")), "en", dest) == []


async def test_a_typed_number_becomes_the_option_it_names():
    adapter = TextOnly()
    msg = m.InboundMessage(kind=m.MESSAGE_KIND_TEXT, text="2.")
    state = TurnState(menu=[Choice("offer:1", "Doble"), Choice("offer:2", "Suite")])
    await adapter.prepare(msg, state)
    assert msg.kind == m.MESSAGE_KIND_INTERACTIVE_REPLY
    assert (msg.interactive_reply.id, msg.interactive_reply.title) == ("offer:2", "Suite")


def test_registry_finds_adapters_by_channel_and_refuses_twice():
    registry = ChannelRegistry()
    adapter = TextOnly()
    registry.register(adapter)
    assert registry.get(m.CHANNEL_GMAIL) is adapter
    assert m.CHANNEL_WHATSAPP not in registry
    with pytest.raises(ValueError):
        registry.register(TextOnly())


async def test_send_message_on_a_channel_without_adapter_is_failed_precondition(gateway, sim):
    gw = await gateway()
    stub = gw.channel()  # held: a channel nobody references is closed under the call
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SendMessage(
            pb.SendMessageRequest(
                channel=m.CHANNEL_GMAIL,
                recipient_id="guest@example.com",
                idempotency_key="k",
                reply=m.Reply(text=m.TextReply(body="hi")),
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await gw.stop()
