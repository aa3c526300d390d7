"""Whatever the fields of a ParseRequest, nlp answers or names the bad field: never INTERNAL.

Found by the mesh's fuzz suite (tests/e2e/test_45_fuzz_public_surface.py): a reference date at
the end of the calendar made relative dates ("mañana", "in 10 days") overflow, and a time zone
name too long for a file name escaped validation as an OSError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from hotel.nlp.v1 import nlp_service_pb2 as pb
from hotel.nlp.v1 import nlp_service_pb2_grpc as pb_grpc
from hotel.type.v1 import date_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from posada_common.server import running
from posada_common.testing import trusted_channel
from posada_nlp import main as nlp_main
from posada_nlp.engine import NluEngine
from posada_nlp.servicer import _validate
from posada_nlp.settings import NlpSettings

END_OF_CALENDAR = date_pb2.Date(year=9999, month=12, day=31)


@pytest.fixture(scope="module")
async def stub(model_dir: Path) -> AsyncIterator[pb_grpc.NlpServiceStub]:
    settings = NlpSettings(
        grpc_port=0, metrics_port=0, nlp_model_dir=model_dir.parent, nlp_train_if_missing=False
    )
    async with running(
        settings,
        service_names=[nlp_main.SERVICE_NAME],
        register=nlp_main.register,
        warmup=nlp_main.warmup,
    ) as rt:
        async with trusted_channel(f"127.0.0.1:{rt.port}") as ch:
            yield pb_grpc.NlpServiceStub(ch)


@pytest.mark.parametrize(
    "text", ["mañana", "in 10 days", "dentro de 3 semanas", "del 31 de diciembre al 2 de enero"]
)
async def test_a_reference_date_at_the_end_of_the_calendar_is_parsed_not_internal(
    stub, text: str
) -> None:  # type: ignore[no-untyped-def]
    reply = await stub.Parse(
        pb.ParseRequest(text=text, reference_date=END_OF_CALENDAR, time_zone="Europe/Madrid"),
        timeout=10,
    )
    assert reply.language
    for e in reply.entities:  # only real calendar dates (those past 9999-12-31 are dropped)
        if e.type in ("check_in", "check_out"):
            assert dt.date.fromisoformat(e.value) >= dt.date(9999, 1, 1)


async def test_a_time_zone_too_long_for_a_file_name_is_an_invalid_argument(stub) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.Parse(pb.ParseRequest(text="hola", time_zone="a" * 5000), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


dates = st.builds(
    date_pb2.Date,
    year=st.one_of(st.integers(-5, 10001), st.sampled_from([1, 9998, 9999])),
    month=st.integers(-1, 13),
    day=st.integers(-1, 32),
)
words = st.sampled_from(
    [
        "mañana",
        "pasado mañana",
        "in 10 days",
        "next week",
        "del 30 de diciembre al 2 de enero",
        "3 noches",
        "hola",
        "quiero reservar",
        "\x00",
        "🏨",
    ]
)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    text=st.one_of(words, st.text(max_size=80)),
    reference=dates,
    time_zone=st.one_of(
        st.sampled_from(["", "Europe/Madrid", "UTC", "../etc", "a" * 300]), st.text(max_size=40)
    ),
    hint=st.sampled_from(["", "es", "en", "pt", "xx"]),
)
def test_any_request_is_parsed_or_rejected_by_field(
    engine: NluEngine, text: str, reference: date_pb2.Date, time_zone: str, hint: str
) -> None:
    request = pb.ParseRequest(
        text=text, reference_date=reference, time_zone=time_zone, language_hint=hint
    )
    bad, args = _validate(request)
    if bad:
        return  # the servicer answers INVALID_ARGUMENT naming these fields
    result = engine.parse(
        args["text"],
        language_hint=args["language_hint"],
        reference_date=args["reference_date"] or dt.date.today(),
        time_zone=args["time_zone"],
        expected_intent=args["expected_intent"],
    )
    assert result.language
