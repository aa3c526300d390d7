"""Nobody is let in: every RPC of every service, through Envoy's mesh listener and directly on
the service's own port, refuses a call without credentials (UNAUTHENTICATED) and a call from a
caller the authorisation table does not allow (PERMISSION_DENIED); staff see only their hotel.

Requests are empty on purpose: authentication and authorisation come before validation, so an
empty request that got past them would answer INVALID_ARGUMENT (or worse), not these codes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from hotel.audio.v1 import audio_service_pb2
from hotel.channel.v1 import channel_service_pb2, message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from hotel.nlp.v1 import nlp_service_pb2
from hotel.pms.v1 import pms_service_pb2
from posada_common import auth
from posada_common.auth_keys import CALLERS
from posada_common.auth_policy import load_policy
from posada_common.clients import dial

from tests.e2e.conftest import RunningMesh

pytestmark = pytest.mark.e2e
FILES = (audio_service_pb2, channel_service_pb2, conv_pb, nlp_service_pb2, pms_service_pb2)
# The findings this issue started from, named so a reader sees they are covered.
MUST_BE_CLOSED = {
    "/hotel.pms.v1.PmsService/CreateBooking",
    "/hotel.pms.v1.PmsService/ModifyBooking",
    "/hotel.pms.v1.PmsService/CancelBooking",
    "/hotel.channel.v1.ChannelService/SendMessage",
    "/hotel.conversation.v1.ConversationService/ReplyAsStaff",
    "/hotel.conversation.v1.ConversationService/GetConversation",
    "/hotel.conversation.v1.ConversationService/ListConversations",
    "/hotel.channel.v1.ChannelService/ListDeadLetters",
    "/hotel.pms.v1.PmsService/FindBookings",
    "/hotel.pms.v1.PmsService/GetBooking",
}


def _rpcs() -> list[tuple[str, bool]]:
    """(path, client_streaming) of every RPC in the contracts."""
    out = []
    for module in FILES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                out.append((f"/{service.full_name}/{method.name}", method.client_streaming))
    return sorted(out)


RPCS = _rpcs()


async def _call(
    address: str, path: str, streaming: bool, metadata: tuple[tuple[str, str], ...] = ()
) -> grpc.StatusCode:
    """The status an empty request to `path` gets (OK if it got through)."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            if streaming:

                async def nothing() -> AsyncIterator[bytes]:
                    return
                    yield b""

                await channel.stream_unary(path)(nothing(), metadata=metadata, timeout=10)
            else:
                await channel.unary_unary(path)(b"", metadata=metadata, timeout=10)
        except grpc.aio.AioRpcError as err:
            return err.code()
    return grpc.StatusCode.OK


def _service_port(mesh: RunningMesh, path: str) -> int:
    grpc_service = path.split("/")[1]
    for spec in mesh.mesh.services.values():
        if grpc_service in spec.grpc_services:
            return spec.grpc_port
    raise AssertionError(path)


def _bearer(path: str, caller: str, *, now: float | None = None) -> tuple[tuple[str, str], ...]:
    token = auth.mint_service_token(path.split("/")[1], identity=caller, now=now)
    return (("authorization", f"Bearer {token}"),)


def test_every_rpc_is_in_the_table_and_the_known_holes_are_closed() -> None:
    policy = load_policy()
    assert [p for p, _ in RPCS if policy.rule(p) is None] == []
    for path in MUST_BE_CLOSED:
        assert set(policy.rule(path).callers) <= {"conversation", "console", "hotelctl"}, path  # type: ignore[union-attr]
    for path in ("CreateBooking", "ModifyBooking", "CancelBooking"):
        rule = policy.rule(f"/hotel.pms.v1.PmsService/{path}")
        assert rule is not None and rule.callers == {"conversation"}


@pytest.mark.parametrize("where", ["envoy", "direct"])
def test_calls_without_a_service_token_are_unauthenticated(
    running_mesh: RunningMesh, where: str
) -> None:
    async def check() -> dict[str, grpc.StatusCode]:
        got = {}
        for path, streaming in RPCS:
            address = (
                running_mesh.mesh_address
                if where == "envoy"
                else f"127.0.0.1:{_service_port(running_mesh, path)}"
            )
            got[path] = await _call(address, path, streaming)
        return got

    got = asyncio.run(check())
    assert {p: c for p, c in got.items() if c != grpc.StatusCode.UNAUTHENTICATED} == {}


@pytest.mark.parametrize("where", ["envoy", "direct"])
def test_callers_not_in_the_table_are_denied(running_mesh: RunningMesh, where: str) -> None:
    policy = load_policy()

    async def check() -> dict[str, grpc.StatusCode]:
        got = {}
        for path, streaming in RPCS:
            rule = policy.rule(path)
            assert rule is not None
            address = (
                running_mesh.mesh_address
                if where == "envoy"
                else f"127.0.0.1:{_service_port(running_mesh, path)}"
            )
            for caller in sorted(set(CALLERS) - set(rule.callers)):
                got[f"{path} as {caller}"] = await _call(
                    address, path, streaming, _bearer(path, caller)
                )
        return got

    got = asyncio.run(check())
    assert got, "every RPC has at least one caller it refuses"
    assert {k: c for k, c in got.items() if c != grpc.StatusCode.PERMISSION_DENIED} == {}


def test_expired_tokens_and_forged_callers_are_unauthenticated(running_mesh: RunningMesh) -> None:
    path = "/hotel.pms.v1.PmsService/CancelBooking"
    expired = _bearer(path, "conversation", now=time.time() - 3600)
    wrong_audience = (
        ("authorization", _bearer("/hotel.nlp.v1.NlpService/Parse", "conversation")[0][1]),
    )
    header, payload, _sig = auth.mint_service_token(
        "hotel.pms.v1.PmsService", identity="gateway"
    ).split(".")
    forged = (("authorization", f"Bearer {header}.{payload}.AAAA"),)

    async def check() -> list[grpc.StatusCode]:
        return [
            await _call(running_mesh.mesh_address, path, False, md)
            for md in (expired, wrong_audience, forged)
        ]

    assert asyncio.run(check()) == [grpc.StatusCode.UNAUTHENTICATED] * 3


def test_the_allowed_caller_gets_past_authorisation(running_mesh: RunningMesh) -> None:
    """Control case: conversation's own token reaches CancelBooking's validation."""

    async def check() -> grpc.StatusCode:
        return await _call(
            running_mesh.mesh_address,
            "/hotel.pms.v1.PmsService/CancelBooking",
            False,
            _bearer("/hotel.pms.v1.PmsService/CancelBooking", "conversation"),
        )

    assert asyncio.run(check()) == grpc.StatusCode.INVALID_ARGUMENT


def _staff(hotel: str, staff_id: str, *, now: float | None = None) -> tuple[tuple[str, str], ...]:
    return auth.staff_metadata(
        auth.mint_staff_token(staff_id, f"Staff {staff_id}", hotel, "agent", ttl=300, now=now)
    )


def test_staff_see_only_their_hotel_and_their_actions_are_recorded(
    running_mesh: RunningMesh,
) -> None:
    conversation_id = f"wa-e2e-hotel2-{time.time_ns()}"

    async def run() -> None:
        async with dial(running_mesh.mesh_address, identity="gateway") as ch:
            await conv_grpc.ConversationServiceStub(ch).HandleMessage(
                conv_pb.HandleMessageRequest(
                    message=message_pb2.InboundMessage(
                        message_id=f"wamid.{conversation_id}",
                        channel=message_pb2.CHANNEL_WHATSAPP,
                        conversation_id=conversation_id,
                        hotel_id="2",
                        guest=message_pb2.Guest(
                            id="34600000222", phone="34600000222", display_name="Bea"
                        ),
                        kind=message_pb2.MESSAGE_KIND_TEXT,
                        text="quiero hablar con una persona",
                    )
                ),
                timeout=30,
            )
        async with dial(running_mesh.mesh_address, identity="console") as ch:
            stub = conv_grpc.ConversationServiceStub(ch)
            get = conv_pb.GetConversationRequest(conversation_id=conversation_id)
            # Staff of hotel 1: hotel 2's conversation does not exist for them.
            with pytest.raises(grpc.aio.AioRpcError) as other:
                await stub.GetConversation(get, metadata=_staff("1", "ana"), timeout=10)
            assert other.value.code() == grpc.StatusCode.NOT_FOUND
            with pytest.raises(grpc.aio.AioRpcError) as listing:
                await stub.ListConversations(
                    conv_pb.ListConversationsRequest(hotel_id="2"),
                    metadata=_staff("1", "ana"),
                    timeout=10,
                )
            assert listing.value.code() == grpc.StatusCode.PERMISSION_DENIED
            mine = await stub.ListConversations(
                conv_pb.ListConversationsRequest(page_size=200),
                metadata=_staff("1", "ana"),
                timeout=10,
            )
            assert all(c.hotel_id == "1" for c in mine.conversations)
            with pytest.raises(grpc.aio.AioRpcError) as reply_other:
                await stub.ReplyAsStaff(
                    conv_pb.ReplyAsStaffRequest(
                        conversation_id=conversation_id, text="hola", idempotency_key="k1"
                    ),
                    metadata=_staff("1", "ana"),
                    timeout=10,
                )
            assert reply_other.value.code() == grpc.StatusCode.NOT_FOUND
            # Claiming to be someone else than the token says is refused.
            with pytest.raises(grpc.aio.AioRpcError) as impostor:
                await stub.ReplyAsStaff(
                    conv_pb.ReplyAsStaffRequest(
                        conversation_id=conversation_id,
                        staff_id="boss",
                        text="hola",
                        idempotency_key="k2",
                    ),
                    metadata=_staff("2", "rui"),
                    timeout=10,
                )
            assert impostor.value.code() == grpc.StatusCode.PERMISSION_DENIED
            # Staff of hotel 2 reply; the history says who did.
            await stub.ReplyAsStaff(
                conv_pb.ReplyAsStaffRequest(
                    conversation_id=conversation_id, text="Hola Bea, soy Rui", idempotency_key="k3"
                ),
                metadata=_staff("2", "rui"),
                timeout=30,
            )
            history = await stub.GetConversation(get, metadata=_staff("2", "rui"), timeout=10)
            staff_messages = [m for m in history.messages if m.author == conv_pb.AUTHOR_STAFF]
            assert [(m.text, m.intent) for m in staff_messages] == [
                ("Hola Bea, soy Rui", "staff:rui")
            ]
            # An expired staff token is refused even though the console's own token is fine.
            with pytest.raises(grpc.aio.AioRpcError) as expired:
                await stub.GetConversation(
                    get, metadata=_staff("2", "rui", now=time.time() - 3600), timeout=10
                )
            assert expired.value.code() == grpc.StatusCode.UNAUTHENTICATED

    asyncio.run(run())
