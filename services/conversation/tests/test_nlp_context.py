"""nlp gets the hotel's time zone, today's date there, and the intent the policy waits on."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import grpc
from conv_chat import Guest
from conv_standins import ScriptedNlp
from hotel.nlp.v1 import nlp_service_pb2_grpc as nlp_grpc
from posada_common.testing import trusted_channel


async def test_parse_requests_carry_zone_reference_date_and_expected_intent(conversation, pms):  # type: ignore[no-untyped-def]
    spy = ScriptedNlp()  # records every ParseRequest
    server = grpc.aio.server()
    nlp_grpc.add_NlpServiceServicer_to_server(spy, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = trusted_channel(f"127.0.0.1:{port}")
    try:
        async with conversation(channels={"nlp": channel}) as svc:
            g = Guest(svc.stub)
            await g.say("quiero reservar una habitación")
            await g.say("del 12 al 14 de marzo")
    finally:
        await channel.close()
        await server.stop(0)
    hotel = await pms.hotel()
    today = dt.datetime.now(ZoneInfo(hotel.time_zone)).date()
    first, second = spy.requests[-2:]
    assert first.time_zone == second.time_zone == hotel.time_zone
    assert (second.reference_date.year, second.reference_date.month, second.reference_date.day) == (
        today.year,
        today.month,
        today.day,
    )
    assert first.expected_intent == "" and second.expected_intent == "make_reservation"
