"""NlpService through a real in-process grpc.aio server on a free port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from hotel.nlp.v1 import nlp_service_pb2 as pb
from hotel.nlp.v1 import nlp_service_pb2_grpc as pb_grpc
from hotel.type.v1 import date_pb2
from posada_common.server import ServiceRuntime, running
from posada_common.testing import trusted_channel
from posada_nlp import main as nlp_main
from posada_nlp.settings import NlpSettings

REF = date_pb2.Date(year=2026, month=3, day=4)


def settings_for(model_dir: Path) -> NlpSettings:
    return NlpSettings(
        grpc_port=0, metrics_port=0, nlp_model_dir=model_dir.parent, nlp_train_if_missing=False
    )


@pytest.fixture(scope="module")
async def stub(model_dir: Path) -> AsyncIterator[pb_grpc.NlpServiceStub]:
    async with running(
        settings_for(model_dir),
        service_names=[nlp_main.SERVICE_NAME],
        register=nlp_main.register,
        warmup=nlp_main.warmup,
    ) as rt:
        async with trusted_channel(f"127.0.0.1:{rt.port}") as ch:
            yield pb_grpc.NlpServiceStub(ch)


def violations(err: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None
    out: dict[str, str] = {}
    for d in status.details:
        if d.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            d.Unpack(br)
            out.update({v.field: v.description for v in br.field_violations})
    return out


async def test_parse_returns_language_intent_and_normalised_entities(
    stub: pb_grpc.NlpServiceStub,
) -> None:
    r = await stub.Parse(
        pb.ParseRequest(
            text="hola, tienen habitación doble para el finde? somos 2",
            reference_date=REF,
            time_zone="Europe/Madrid",
        ),
        timeout=5,
    )
    assert r.language == "es"
    assert r.intent.name == "check_availability"
    assert r.intent_ranking[0].name == r.intent.name
    assert r.model_version
    got = {(e.type, e.value) for e in r.entities}
    assert got == {
        ("room_type", "double"),
        ("check_in", "2026-03-06"),
        ("check_out", "2026-03-08"),
        ("adults", "2"),
    }


async def test_language_hint_wins_over_detection(stub: pb_grpc.NlpServiceStub) -> None:
    r = await stub.Parse(
        pb.ParseRequest(text="ok", language_hint="pt", reference_date=REF), timeout=5
    )
    assert r.language == "pt"


@pytest.mark.parametrize(
    ("text", "expected", "entities"),
    [
        (
            "del 5 al 8",
            "check_availability",
            {("check_in", "2026-03-05"), ("check_out", "2026-03-08")},
        ),
        ("para dos", "make_reservation", {("adults", "2")}),
        (
            "from the 10th to the 12th",
            "check_availability",
            {("check_in", "2026-03-10"), ("check_out", "2026-03-12")},
        ),
        ("somos 3 adultos", "ask_price", {("adults", "3")}),
        ("HB-4821", "cancel_reservation", {("booking_ref", "HB-4821")}),
        ("10452", "reservation_status", {("booking_ref", "10452")}),
        ("ana.souza@gmail.com", "make_reservation", {("email", "ana.souza@gmail.com")}),
    ],
)
async def test_a_bare_answer_keeps_the_expected_intent(
    stub: pb_grpc.NlpServiceStub, text: str, expected: str, entities: set[tuple[str, str]]
) -> None:
    r = await stub.Parse(
        pb.ParseRequest(text=text, reference_date=REF, expected_intent=expected), timeout=5
    )
    assert r.intent.name == expected
    assert {(e.type, e.value) for e in r.entities} == entities


async def test_a_clear_new_request_overrides_the_expected_intent(
    stub: pb_grpc.NlpServiceStub,
) -> None:
    r = await stub.Parse(
        pb.ParseRequest(
            text="muchas gracias, adiós", reference_date=REF, expected_intent="check_availability"
        ),
        timeout=5,
    )
    assert r.intent.name in ("goodbye", "thanks")


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.ParseRequest(text=""), "text"),
        (pb.ParseRequest(text="   "), "text"),
        (pb.ParseRequest(text="a" * 4097), "text"),
        (pb.ParseRequest(text="hola", language_hint="fr"), "language_hint"),
        (pb.ParseRequest(text="hola", time_zone="Europe/Atlantis"), "time_zone"),
        (
            pb.ParseRequest(text="hola", reference_date=date_pb2.Date(year=2026, month=2, day=30)),
            "reference_date",
        ),
        (pb.ParseRequest(text="hola", reference_date=date_pb2.Date()), "reference_date"),
        (pb.ParseRequest(text="hola", expected_intent="book_flight"), "expected_intent"),
    ],
)
async def test_invalid_parse_requests_name_the_field(
    stub: pb_grpc.NlpServiceStub, request_: pb.ParseRequest, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.Parse(request_, timeout=5)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in violations(exc.value)


async def test_text_of_exactly_4096_characters_is_accepted(stub: pb_grpc.NlpServiceStub) -> None:
    r = await stub.Parse(pb.ParseRequest(text="hola " * 819 + "h", reference_date=REF), timeout=5)
    assert r.intent.name


async def test_parse_batch_keeps_order_and_matches_parse(stub: pb_grpc.NlpServiceStub) -> None:
    texts = [
        "hi there",
        "quanto custa a suíte?",
        "quiero cancelar mi reserva HB-1234",
        "gracias",
    ] * 5
    reqs = [pb.ParseRequest(text=t, reference_date=REF) for t in texts]
    batch = await stub.ParseBatch(pb.ParseBatchRequest(requests=reqs), timeout=10)
    assert len(batch.responses) == len(texts)
    for t, res in zip(texts, batch.responses, strict=True):
        single = await stub.Parse(pb.ParseRequest(text=t, reference_date=REF), timeout=5)
        assert res.intent.name == single.intent.name
        assert [(e.type, e.value) for e in res.entities] == [
            (e.type, e.value) for e in single.entities
        ]


async def test_batch_over_256_is_invalid(stub: pb_grpc.NlpServiceStub) -> None:
    reqs = [pb.ParseRequest(text="hola") for _ in range(257)]
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.ParseBatch(pb.ParseBatchRequest(requests=reqs), timeout=10)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "requests" in violations(exc.value)


async def test_batch_names_the_bad_item(stub: pb_grpc.NlpServiceStub) -> None:
    reqs = [
        pb.ParseRequest(text="hola"),
        pb.ParseRequest(text=""),
        pb.ParseRequest(text="x", language_hint="de"),
    ]
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.ParseBatch(pb.ParseBatchRequest(requests=reqs), timeout=10)
    v = violations(exc.value)
    assert "requests[1].text" in v and "requests[2].language_hint" in v


async def test_model_info(stub: pb_grpc.NlpServiceStub, model_dir: Path) -> None:
    info = await stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=5)
    assert info.model_version == model_dir.name
    assert len(info.data_hash) == 64
    assert set(info.languages) == {"es", "en", "pt"}
    assert "out_of_scope" in info.intents and len(info.intents) == 18
    assert 0.0 <= info.out_of_scope_threshold < 1.0
    assert info.engine == "spacy"


async def test_health_is_not_serving_until_the_model_is_loaded(model_dir: Path) -> None:
    gate = asyncio.Event()

    async def slow_warmup(rt: ServiceRuntime) -> None:
        await gate.wait()
        await nlp_main.warmup(rt)

    async with running(
        settings_for(model_dir),
        service_names=[nlp_main.SERVICE_NAME],
        register=nlp_main.register,
        warmup=slow_warmup,
        wait_ready=False,
    ) as rt:
        async with trusted_channel(f"127.0.0.1:{rt.port}") as ch:
            health = health_pb2_grpc.HealthStub(ch)
            req = health_pb2.HealthCheckRequest(service=nlp_main.SERVICE_NAME)
            assert (
                await health.Check(req, timeout=5)
            ).status == health_pb2.HealthCheckResponse.NOT_SERVING
            with pytest.raises(grpc.aio.AioRpcError) as exc:
                await pb_grpc.NlpServiceStub(ch).Parse(pb.ParseRequest(text="hola"), timeout=5)
            assert exc.value.code() == grpc.StatusCode.UNAVAILABLE
            gate.set()
            await asyncio.wait_for(rt.ready.wait(), 30)
            assert (
                await health.Check(req, timeout=5)
            ).status == health_pb2.HealthCheckResponse.SERVING
            r = await pb_grpc.NlpServiceStub(ch).Parse(pb.ParseRequest(text="hola"), timeout=5)
            assert r.intent.name == "greeting"
