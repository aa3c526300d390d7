"""Hotel questions are answered from pms hotel data only; requests become staff tasks."""

from __future__ import annotations

import grpc
from conv_chat import Guest
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from hotel.pms.v1 import pms_service_pb2_grpc


async def hotel(mesh) -> pms_pb2.Hotel:  # type: ignore[no-untyped-def]
    async with grpc.aio.insecure_channel(mesh.address) as ch:
        return (
            await pms_service_pb2_grpc.PmsServiceStub(ch).GetHotel(
                pms_pb2.GetHotelRequest(hotel_id="1"), timeout=10
            )
        ).hotel


async def test_location_has_the_pms_address_and_a_map_link(service, mesh):  # type: ignore[no-untyped-def]
    h = await hotel(mesh)
    g = Guest(service.stub)
    r = await g.say("¿dónde están?")
    assert h.address.line1 in g.text() and h.address.city in g.text()
    assert (
        f"{h.latitude:.6f},{h.longitude:.6f}" in g.text()
        and "https://www.google.com/maps" in g.text()
    )
    location = [x.location for x in r.replies if x.WhichOneof("content") == "location"]
    assert location and location[0].latitude == h.latitude


async def test_amenities_yes_and_no_follow_the_hotel_data(service, mesh):  # type: ignore[no-untyped-def]
    h = await hotel(mesh)
    g = Guest(service.stub)
    await g.say("¿tienen piscina?")
    assert ("Tenemos piscina" in g.text()) == ("pool" in h.amenities)
    await g.say("¿tienen gimnasio?")
    assert ("no tenemos gimnasio" in g.text()) == ("gym" not in h.amenities)
    en = Guest(service.stub)
    await en.say("do you have a pool?")
    assert en.last.language == "en" and ("We have a pool" in en.text()) == ("pool" in h.amenities)
    pt = Guest(service.stub)
    await pt.say("vocês têm estacionamento?")
    assert ("Temos estacionamento" in pt.text()) == ("parking" in h.amenities)


async def test_policies_quote_the_hotel_times_and_texts(service, mesh):  # type: ignore[no-untyped-def]
    h = await hotel(mesh)
    g = Guest(service.stub)
    await g.say("¿a qué hora es el check-in?")
    assert h.check_in_time in g.text()
    en = Guest(service.stub)
    await en.say("what time is check-out?")
    assert h.check_out_time in en.text()
    pets = [p.text for p in h.policies if p.topic == pms_pb2.POLICY_TOPIC_PETS]
    await g.say("¿se admiten mascotas?")
    if pets:
        assert pets[0] in g.text()
    else:
        assert "menu:human" in g.buttons()


async def test_late_checkout_and_service_requests_create_staff_tasks(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub)
    await g.say("¿puedo salir más tarde el domingo?")
    await g.say("necesito toallas en la habitación")
    tasks = await service.stub.ListTasks(
        conv_pb2.ListTasksRequest(hotel_id="1", status=conv_pb2.TASK_STATUS_OPEN, page_size=200)
    )
    mine = [t for t in tasks.tasks if t.conversation_id == g.conversation_id]
    kinds = sorted(t.kind for t in mine)
    assert kinds == [conv_pb2.TASK_KIND_LATE_CHECKOUT, conv_pb2.TASK_KIND_SERVICE_REQUEST]
    towels = next(t for t in mine if t.kind == conv_pb2.TASK_KIND_SERVICE_REQUEST)
    assert "toallas" in towels.description
    done = await service.stub.CompleteTask(
        conv_pb2.CompleteTaskRequest(task_id=towels.task_id, staff_id="maria", note="llevadas")
    )
    assert done.task.status == conv_pb2.TASK_STATUS_DONE and done.task.completed_by == "maria"


async def test_greeting_thanks_and_out_of_scope_are_short_with_a_menu(service):  # type: ignore[no-untyped-def]
    g = Guest(service.stub)
    await g.say("hola")
    assert g.buttons() == ["menu:availability", "menu:booking", "menu:human"]
    await g.say("¿cuál es la capital de mongolia?")
    assert g.buttons() == ["menu:availability", "menu:booking", "menu:human"]
    await g.say("gracias")
    assert (await g.templates_used())[-1] == "messages.thanks"


async def test_language_is_kept_for_short_messages_and_switches_when_the_guest_clearly_does(
    service, mesh
):  # type: ignore[no-untyped-def]
    h = await hotel(mesh)
    g = Guest(service.stub)
    assert (await g.say("hola")).language == "es"
    assert (await g.say("ok")).language == "es"  # one word is no reason to switch
    r = await g.say("Do you have a swimming pool at the hotel?")
    assert r.language == "en"
    assert ("We have a pool" in g.text()) == ("pool" in h.amenities)
    conversation = (await g.history()).conversation
    assert conversation.language == "en"
