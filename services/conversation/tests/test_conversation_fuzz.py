"""Whatever the fields of a ConversationService request, the answer is a clear status: never
INTERNAL or UNKNOWN (property-based, over the real service with real PostgreSQL and Redis).

The mesh-wide fuzz suite (tests/e2e/test_45_fuzz_public_surface.py) found NUL characters in ids
and texts reaching PostgreSQL (which refuses them) as INTERNAL; these keep that from coming back.
"""

from __future__ import annotations

import grpc
from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BAD = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS}
texts = st.one_of(
    st.sampled_from(["", "\x00", "wa:x\x00y", "a" * 5000, "wa:1:34600111222", "🏨", " "]),
    st.text(max_size=40),
)
FUZZ = settings(
    max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


async def _call(stub, method: str, request) -> None:  # type: ignore[no-untyped-def]
    try:
        await getattr(stub, method)(request, timeout=20)
    except grpc.aio.AioRpcError as err:
        assert err.code() not in BAD, f"{method} → {err.code().name}: {err.details()} ({request})"


@FUZZ
@given(cid=texts, limit=st.integers(-5, 600))
async def test_get_conversation_is_never_internal(service, cid: str, limit: int) -> None:  # type: ignore[no-untyped-def]
    request = conv_pb2.GetConversationRequest(conversation_id=cid, message_limit=limit)
    await _call(service.stub, "GetConversation", request)


@FUZZ
@given(cid=texts, reply_id=texts, provider_id=texts, status=st.integers(-1, 9), error=texts)
async def test_record_delivery_is_never_internal(  # type: ignore[no-untyped-def]
    service, cid: str, reply_id: str, provider_id: str, status: int, error: str
) -> None:
    request = conv_pb2.RecordDeliveryRequest(
        conversation_id=cid,
        reply_id=reply_id,
        provider_message_id=provider_id,
        status=status,  # type: ignore[arg-type]
        error=error,
    )
    await _call(service.stub, "RecordDelivery", request)


@FUZZ
@given(cid=texts, staff=texts)
async def test_release_handoff_is_never_internal(service, cid: str, staff: str) -> None:  # type: ignore[no-untyped-def]
    request = conv_pb2.ReleaseHandoffRequest(conversation_id=cid, staff_id=staff)
    await _call(service.stub, "ReleaseHandoff", request)


@FUZZ
@given(cid=texts, staff=texts, text=texts, key=texts)
async def test_reply_as_staff_is_never_internal(
    service, cid: str, staff: str, text: str, key: str
) -> None:  # type: ignore[no-untyped-def]
    request = conv_pb2.ReplyAsStaffRequest(
        conversation_id=cid, staff_id=staff, text=text, idempotency_key=key
    )
    await _call(service.stub, "ReplyAsStaff", request)


@FUZZ
@given(
    cid=texts,
    mid=texts,
    guest=texts,
    text=st.one_of(texts, st.just("hola\x00¿hay parking?"), st.just("x" * 20000)),
    attempt=st.integers(-3, 10),
)
async def test_handle_message_is_never_internal(  # type: ignore[no-untyped-def]
    service, cid: str, mid: str, guest: str, text: str, attempt: int
) -> None:
    message = message_pb2.InboundMessage(
        message_id=mid,
        conversation_id=cid,
        channel=message_pb2.CHANNEL_WHATSAPP,
        guest=message_pb2.Guest(id=guest, phone=guest, display_name=guest),
        kind=message_pb2.MESSAGE_KIND_TEXT,
        text=text,
        hotel_id="1",
    )
    request = conv_pb2.HandleMessageRequest(message=message, attempt=attempt)
    await _call(service.stub, "HandleMessage", request)


async def test_a_nul_or_a_very_long_text_gets_an_answer(service) -> None:  # type: ignore[no-untyped-def]
    """The guest is answered: the text is cleaned (NUL) and cut (over 16,384 characters)."""
    from conv_chat import Guest

    g = Guest(service.stub)
    r = await g.say("hola\x00, ¿tenéis parking?")
    assert r.replies and not r.retry_later
    r = await g.say("hola " + "muy " * 6000)
    assert r.replies
    history = await g.history()
    assert all("\x00" not in m.text for m in history.messages)
