"""Mesh authentication through a real grpc.aio server: tokens, the table, staff identity."""

from __future__ import annotations

import time

import grpc
import pytest
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.conversation.v1 import conversation_service_pb2_grpc as conv_grpc
from hotel.nlp.v1 import nlp_service_pb2 as pb
from hotel.nlp.v1 import nlp_service_pb2_grpc as pb_grpc
from posada_common import auth
from posada_common.auth_keys import generate_credentials
from posada_common.clients import dial
from posada_common.server import running
from posada_common.settings import CommonSettings
from posada_common.testing import shared_test_credentials

NLP = "hotel.nlp.v1.NlpService"
CONV = "hotel.conversation.v1.ConversationService"


class Settings(CommonSettings):
    service_name: str = "demo"
    grpc_port: int = 0
    shutdown_grace_seconds: float = 1.0


class Nlp(pb_grpc.NlpServiceServicer):
    async def Parse(self, request: pb.ParseRequest, context: object) -> pb.ParseResponse:
        return pb.ParseResponse(language=auth.current_caller() or "?")


class Conversations(conv_grpc.ConversationServiceServicer):
    async def ListConversations(
        self, request: conv_pb2.ListConversationsRequest, context: object
    ) -> conv_pb2.ListConversationsResponse:
        staff = auth.current_staff(context)  # type: ignore[arg-type]
        return conv_pb2.ListConversationsResponse(
            next_page_token=f"{staff.staff_id}@{staff.hotel_id}"
        )


async def _register(rt) -> None:  # type: ignore[no-untyped-def]
    pb_grpc.add_NlpServiceServicer_to_server(Nlp(), rt.server)
    conv_grpc.add_ConversationServiceServicer_to_server(Conversations(), rt.server)


async def _code(call) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code()


async def test_allowed_caller_gets_through_and_the_servicer_sees_who_called() -> None:
    async with running(Settings(), service_names=[NLP], register=_register) as rt:
        async with dial(f"127.0.0.1:{rt.port}", identity="conversation") as ch:
            reply = await pb_grpc.NlpServiceStub(ch).Parse(pb.ParseRequest(text="hola"), timeout=2)
    assert reply.language == "conversation"


async def test_a_call_without_a_token_is_unauthenticated_and_health_stays_open() -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with running(Settings(), service_names=[NLP], register=_register) as rt:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{rt.port}") as ch:
            stub = pb_grpc.NlpServiceStub(ch)
            assert await _code(stub.Parse(pb.ParseRequest(text="x"), timeout=2)) == (
                grpc.StatusCode.UNAUTHENTICATED
            )
            health = await health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=NLP), timeout=2
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_caller_not_in_the_table_is_denied() -> None:
    async with running(Settings(), service_names=[NLP], register=_register) as rt:
        async with dial(f"127.0.0.1:{rt.port}", identity="gateway") as ch:
            stub = pb_grpc.NlpServiceStub(ch)
            assert await _code(stub.Parse(pb.ParseRequest(text="x"), timeout=2)) == (
                grpc.StatusCode.PERMISSION_DENIED
            )


async def test_a_token_signed_by_a_key_the_server_does_not_trust_is_refused() -> None:
    stranger = generate_credentials(identity="conversation")
    async with running(Settings(), service_names=[NLP], register=_register) as rt:
        async with dial(f"127.0.0.1:{rt.port}", credentials=stranger) as ch:
            stub = pb_grpc.NlpServiceStub(ch)
            assert await _code(stub.Parse(pb.ParseRequest(text="x"), timeout=2)) == (
                grpc.StatusCode.UNAUTHENTICATED
            )


async def test_expired_and_misaddressed_service_tokens_are_refused() -> None:
    creds = shared_test_credentials()
    expired = auth.mint_service_token(
        NLP, identity="conversation", credentials=creds, now=time.time() - 3600
    )
    elsewhere = auth.mint_service_token(
        "hotel.pms.v1.PmsService", identity="conversation", credentials=creds
    )
    async with running(Settings(), service_names=[NLP], register=_register) as rt:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{rt.port}") as ch:
            stub = pb_grpc.NlpServiceStub(ch)
            for token in (expired, elsewhere, "not-a-jwt"):
                call = stub.Parse(
                    pb.ParseRequest(text="x"),
                    metadata=(("authorization", f"Bearer {token}"),),
                    timeout=2,
                )
                assert await _code(call) == grpc.StatusCode.UNAUTHENTICATED


async def test_staff_rpcs_need_a_staff_token_from_the_console() -> None:
    token = auth.mint_staff_token("u-17", "Ana Pérez", "7", "agent", ttl=60)
    request = conv_pb2.ListConversationsRequest()
    async with running(Settings(), service_names=[CONV], register=_register) as rt:
        async with dial(f"127.0.0.1:{rt.port}", identity="console") as ch:
            stub = conv_grpc.ConversationServiceStub(ch)
            assert await _code(stub.ListConversations(request, timeout=2)) == (
                grpc.StatusCode.PERMISSION_DENIED
            )
            ok = await stub.ListConversations(
                request, metadata=auth.staff_metadata(token), timeout=2
            )
            assert ok.next_page_token == "u-17@7"
            old = auth.mint_staff_token(
                "u-17", "Ana Pérez", "7", "agent", ttl=60, now=time.time() - 3600
            )
            assert (
                await _code(
                    stub.ListConversations(request, metadata=auth.staff_metadata(old), timeout=2)
                )
                == grpc.StatusCode.UNAUTHENTICATED
            )
        async with dial(f"127.0.0.1:{rt.port}", identity="gateway") as ch:
            stub = conv_grpc.ConversationServiceStub(ch)
            assert (
                await _code(
                    stub.ListConversations(request, metadata=auth.staff_metadata(token), timeout=2)
                )
                == grpc.StatusCode.PERMISSION_DENIED
            )


def test_staff_token_carries_who_and_where_and_refuses_bad_input() -> None:
    token = auth.mint_staff_token("u-9", "Rui", "3", "manager", ttl=30)
    staff = auth.verify_staff_token(token)
    assert (staff.staff_id, staff.name, staff.hotel_id, staff.role) == (
        "u-9",
        "Rui",
        "3",
        "manager",
    )
    assert staff.is_manager and staff.label() == "Rui (u-9, manager)"
    with pytest.raises(ValueError):
        auth.mint_staff_token("u-9", "Rui", "3", "owner", ttl=30)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        auth.mint_staff_token("", "Rui", "3", "agent", ttl=30)
    with pytest.raises(auth.AuthError):
        auth.verify_staff_token(
            auth.mint_service_token(STAFF_AUD, identity="console"), shared_test_credentials()
        )


STAFF_AUD = auth.STAFF_AUDIENCE


def test_every_rpc_in_the_contracts_has_an_entry_in_the_table() -> None:
    from hotel.audio.v1 import audio_service_pb2
    from hotel.channel.v1 import channel_service_pb2
    from hotel.pms.v1 import pms_service_pb2
    from posada_common.auth_keys import CALLERS
    from posada_common.auth_policy import load_policy

    policy = load_policy()
    missing = []
    for module in (audio_service_pb2, channel_service_pb2, conv_pb2, pb, pms_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                rule = policy.rule(f"/{service.full_name}/{method.name}")
                if rule is None or not rule.callers:
                    missing.append(f"{service.name}.{method.name}")
                else:
                    assert rule.callers <= set(CALLERS)
    assert missing == []
    assert policy.rule("/hotel.pms.v1.PmsService/CancelBooking").callers == {"conversation"}  # type: ignore[union-attr]


def test_dev_credentials_are_private_files_reused_across_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from posada_common.auth_keys import load_or_create_dev_credentials

    first = load_or_create_dev_credentials(tmp_path / "creds")
    again = load_or_create_dev_credentials(tmp_path / "creds")
    assert first.env_for("pms") == again.env_for("pms")
    assert (tmp_path / "creds").stat().st_mode & 0o777 == 0o700
    for key in (tmp_path / "creds").glob("*.key"):
        assert key.stat().st_mode & 0o777 == 0o600
    env = first.env_for("pms")
    assert "STAFF_TOKEN_SIGNING_KEY" not in env, "only the console signs staff tokens"
    assert "STAFF_TOKEN_SIGNING_KEY" in first.env_for("console")
    token = auth.mint_service_token("x", identity="pms", credentials=first)
    from posada_common.auth_keys import credentials_from_env

    child = credentials_from_env(env)
    assert set(child.private_keys) == {"pms"}
    assert auth.verify_service_token(token, ["x"], child) == "pms"


def test_a_caller_key_rotates_without_refusing_calls_signed_with_either_key() -> None:
    from posada_common.auth_keys import ENV_PUBLIC_KEYS, credentials_from_env, encode_public_key

    old = generate_credentials()
    new = generate_credentials()
    # The verifier trusts both of conversation's keys during the rotation (new first).
    env = old.env_for("nlp")
    env[ENV_PUBLIC_KEYS] += (
        f",conversation:{encode_public_key(new.private_key('conversation').public_key())}"
    )
    verifier = credentials_from_env(env)
    for signer in (old, new):
        token = auth.mint_service_token(NLP, identity="conversation", credentials=signer)
        assert auth.verify_service_token(token, [NLP], verifier) == "conversation"
    stranger = generate_credentials()
    with pytest.raises(auth.AuthError):
        auth.verify_service_token(
            auth.mint_service_token(NLP, identity="conversation", credentials=stranger),
            [NLP],
            verifier,
        )
    # And the rotation survives being passed on to a child process.
    again = credentials_from_env(
        verifier.env_for("nlp") | {"MESH_PRIVATE_KEY": env["MESH_PRIVATE_KEY"]}
    )
    assert len(again.public_keys_of("conversation")) == 2
