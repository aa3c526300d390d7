"""Hotel questions are answered from pms hotel data only; requests become staff tasks."""

from __future__ import annotations

from conv_chat import Guest
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from hotel.pms.v1 import pms_service_pb2_grpc
from posada_common.testing import trusted_channel


async def hotel(mesh, language: str = "es") -> pms_pb2.Hotel:  # type: ignore[no-untyped-def]
    """The hotel as pms gives it, texts in `language`."""
    async with trusted_channel(mesh.address) as ch:
        return (
            await pms_service_pb2_grpc.PmsServiceStub(ch).GetHotel(
                pms_pb2.GetHotelRequest(hotel_id="1", language=language), timeout=10
            )
        ).hotel


def policy_texts(h: pms_pb2.Hotel, topic: int) -> list[str]:
    return [p.text for p in h.policies if p.topic == topic]


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


async def test_amenities_are_answered_in_the_hotels_own_words(service, mesh):  # type: ignore[no-untyped-def]
    es = await hotel(mesh, "es")
    assert "pool" not in es.amenities  # the demo hotel has none: nothing may claim one
    g = Guest(service.stub)
    await g.say("¿tienen piscina?")
    assert "no menciona" in g.text() and "menu:human" in g.buttons() and "Tenemos" not in g.text()
    await g.say("¿tienen gimnasio?")
    assert any(f.split(" (")[0] in g.text() for f in es.features if "Gimnasio" in f)
    en = Guest(service.stub)
    await en.say("do you have a pool?")
    assert en.last.language == "en" and "doesn't mention" in en.text()
    pt_hotel = await hotel(mesh, "pt")
    pt = Guest(service.stub)
    await pt.say("vocês têm estacionamento?")
    worded = next(f for f in pt_hotel.features if "stacionamento" in f)
    assert worded.split(" (")[0] in pt.text() and "Temos estacionamento" not in pt.text()


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


async def test_policy_answers_quote_the_hotel_texts_in_the_guests_language(service, mesh):  # type: ignore[no-untyped-def]
    es, pt, en = [await hotel(mesh, lang) for lang in ("es", "pt", "en")]
    pets_es = policy_texts(es, pms_pb2.POLICY_TOPIC_PETS)
    pets_pt = policy_texts(pt, pms_pb2.POLICY_TOPIC_PETS)
    pets_en = policy_texts(en, pms_pb2.POLICY_TOPIC_PETS)
    cancel_es = policy_texts(es, pms_pb2.POLICY_TOPIC_CANCELLATION)
    cancel_pt = policy_texts(pt, pms_pb2.POLICY_TOPIC_CANCELLATION)
    # pms has each policy in each language (and they differ), so the check below is meaningful.
    assert pets_es and pets_pt and pets_en and cancel_es and cancel_pt
    assert len({pets_es[0], pets_pt[0], pets_en[0]}) == 3 and cancel_es[0] != cancel_pt[0]
    if mesh.real_pms:  # the QloApps stand-in's demo texts, through the real pms
        assert "Se admiten mascotas pequeñas" in pets_es[0]
        assert "Aceitamos animais de estimação" in pets_pt[0]

    spanish = Guest(service.stub)
    await spanish.say("¿se admiten mascotas?")
    assert spanish.last.language == "es"
    assert pets_es[0] in spanish.text() and pets_en[0] not in spanish.text()
    await spanish.say("¿cuál es la política de cancelación?")
    assert cancel_es[0] in spanish.text()

    portuguese = Guest(service.stub)
    await portuguese.say("vocês aceitam animais de estimação?")
    assert portuguese.last.language == "pt"
    assert pets_pt[0] in portuguese.text()
    assert pets_es[0] not in portuguese.text() and pets_en[0] not in portuguese.text()
    await portuguese.say("qual é a política de cancelamento?")
    assert cancel_pt[0] in portuguese.text() and cancel_es[0] not in portuguese.text()


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
