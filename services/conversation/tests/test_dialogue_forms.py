"""Dialogue behaviours of ISSUE-11/16 in es, en and pt, through the real nlp, pms and QloApps stand-in.

Each test is a short scripted guest (the same runner as the eval: `dialogue_eval.run`), whose
outcome is checked where it lives: the booking in the right hotel of the PMS stand-in, prices
against its availability, handoffs and staff tasks in Postgres.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from dialogue_eval import run
from posada_conversation.i18n import Templates
from posada_conversation.sessions import SESSION_VERSION, Session

_n = itertools.count(500)
NAME = {"es": "Lucía Fernández", "en": "Tom Baker", "pt": "Beatriz Souza"}
EMAIL = {"es": "lucia@example.com", "en": "tom@example.com", "pt": "bia@example.com"}
YES = {"es": "sí, confirma", "en": "yes, confirm", "pt": "sim, confirma"}
DOUBLE = {"es": "la doble", "en": "the double room", "pt": "o quarto duplo"}
ASK_REF = ["número de reserva", "booking number", "número da reserva"]
TECH = ["technical problem", "problema técnico"]


def finish(lang: str, room: str = "") -> list[dict[str, Any]]:
    return [
        {"say": room or DOUBLE[lang]},
        {"say": NAME[lang]},
        {"say": EMAIL[lang]},
        {"say": YES[lang]},
    ]


@pytest.fixture
def talk(service, mesh, conv_db):  # type: ignore[no-untyped-def]
    if not (mesh.real_nlp and mesh.real_pms):
        pytest.skip("needs the real nlp and pms")

    async def go(scenario: dict[str, Any]) -> None:
        n = next(_n)
        # Each scenario its own dates, so bookings of one test never sell out another's rooms.
        stay = {"nights": 2, **scenario.get("stay", {}), "offset": 100 + (n * 7) % 240}
        scenario = {"forbid": TECH, "hotel_id": "1", **scenario, "stay": stay}
        result = await run(scenario, "test", service.stub, mesh.address, conv_db, n)
        assert result.success, "\n".join(result.failures + result.transcript)

    return go


FAQ = {
    "es": (
        "¿El desayuno está incluido? ¿Y tienen estacionamiento?",
        ["Desayuno buffet"],
        ["de pago"],
    ),
    "en": (
        "Is breakfast included? And do you have parking?",
        ["Breakfast buffet"],
        ["Paid parking"],
    ),
    "pt": (
        "O café da manhã está incluído? E vocês têm estacionamento?",
        ["Café da manhã"],
        ["pago"],
    ),
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_every_question_in_a_message_is_answered_truthfully(talk, lang):  # type: ignore[no-untyped-def]
    text, first, second = FAQ[lang]
    await talk(
        {
            "id": f"faq-{lang}",
            "language": lang,
            "turns": [
                {
                    "say": text,
                    "expect": [first, second],
                    "forbid": ["Yes! We have parking", "¡Sí! Tenemos", "Sim! Temos"],
                }
            ],
            "outcome": {},
        }
    )


PETS = {
    "es": ("¿Puedo llevar a mi perrito? ¿Y a qué hora es el check-in?", "10 kg", "15:00"),
    "en": ("Can I bring my small dog? And what time is check-in?", "10 kg", "15:00"),
    "pt": ("Posso levar meu cachorrinho? E que horas é o check-in?", "10 kg", "15:00"),
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_a_policy_and_a_time_asked_together_are_both_answered(talk, lang):  # type: ignore[no-untyped-def]
    text, pets, time = PETS[lang]
    await talk(
        {
            "id": f"pets-{lang}",
            "language": lang,
            "turns": [{"say": text, "expect": [[pets], [time]]}],
            "outcome": {},
        }
    )


LOCATION = {
    "es": "¿dónde está exactamente el hotel? ¿hay metro cerca?",
    "en": "where exactly is the hotel, is there a metro nearby?",
    "pt": "onde fica exatamente o hotel? tem metrô perto?",
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_location_gives_the_address_and_the_distances_from_the_description(talk, lang):  # type: ignore[no-untyped-def]
    await talk(
        {
            "id": f"loc-{lang}",
            "language": lang,
            "turns": [
                {"say": LOCATION[lang], "expect": [["Huertas"], ["Antón Martín"], ["300 m"]]}
            ],
            "outcome": {},
        }
    )


BA = {
    "es": "Hola, quiero reservar en el hotel de Buenos Aires del {in} al {out} para 2 personas",
    "en": "Hi, I'd like to book the Buenos Aires hotel from {in} to {out} for 2 adults",
    "pt": "Olá, quero reservar no hotel de Buenos Aires de {in} a {out} para 2 pessoas",
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_naming_the_city_books_that_hotel_in_its_currency(talk, lang):  # type: ignore[no-untyped-def]
    turns = [
        {"say": BA[lang], "expect": [["ARS"], ["San Telmo"]], "check_prices": True},
        *finish(lang),
    ]
    turns[-2]["expect"] = [["San Telmo"]]  # the summary names the hotel
    await talk(
        {
            "id": f"ba-{lang}",
            "language": lang,
            "hotel_id": "2",
            "forbid": [*TECH, "Posada del Prado", "€"],
            "turns": turns,
            "outcome": {"booking": {"hotel_id": "2", "adults": 2, "category": "double"}},
        }
    )


SWITCH = {
    "es": (
        "Hola, una habitación del {in} al {out} para 2 personas",
        "perdón, en realidad es para el de San Telmo",
    ),
    "en": ("Hi, a room from {in} to {out} for 2 people", "sorry, actually the one in Buenos Aires"),
    "pt": (
        "Oi, um quarto de {in} a {out} para 2 pessoas",
        "desculpa, na verdade é no hotel de Buenos Aires",
    ),
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_switching_hotel_mid_booking_keeps_the_stay_and_books_the_new_hotel(talk, lang):  # type: ignore[no-untyped-def]
    a, b = SWITCH[lang]
    await talk(
        {
            "id": f"switch-{lang}",
            "language": lang,
            "hotel_id": "2",
            "turns": [
                {"say": a, "expect": [["€"]]},
                {"say": b, "expect": [["ARS"]], "forbid": ["€"], "check_prices": True},
                *({**t, "forbid": ["€", "Posada del Prado"]} for t in finish(lang)),
            ],
            "outcome": {"booking": {"hotel_id": "2", "adults": 2, "category": "double"}},
        }
    )


POLICY = {
    "es": "¿hasta cuándo puedo cancelar gratis?",
    "en": "until when can I cancel for free?",
    "pt": "até quando posso cancelar de graça?",
}
CITY = {
    "es": "Y en el hotel de Buenos Aires?",
    "en": "And at the Buenos Aires hotel?",
    "pt": "E no hotel de Buenos Aires?",
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_each_hotel_answers_with_its_own_policies(talk, lang):  # type: ignore[no-untyped-def]
    await talk(
        {
            "id": f"policies-{lang}",
            "language": lang,
            "turns": [
                {"say": POLICY[lang], "expect": [["7"]], "forbid": ["72"]},
                {"say": f"{CITY[lang]} {POLICY[lang]}", "expect": [["72"]]},
            ],
            "outcome": {},
        }
    )


CORRECT = {
    "es": (
        "Hola, una doble del {in} al {out} para 2 personas",
        "perdón, es del {in2} al {out2}, lo podés cambiar?",
    ),
    "en": (
        "Hi, a double from {in} to {out} for 2 people",
        "sorry, it's {in2} to {out2}, can you change it?",
    ),
    "pt": (
        "Oi, um duplo de {in} a {out} para 2 pessoas",
        "desculpa, é de {in2} a {out2}, pode mudar?",
    ),
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_a_change_of_mind_while_booking_updates_the_dates(talk, lang):  # type: ignore[no-untyped-def]
    a, b = CORRECT[lang]
    await talk(
        {
            "id": f"correct-{lang}",
            "language": lang,
            "stay": {"offset": 40, "nights": 2, "offset2": 4},
            "turns": [
                {"say": a},
                {"say": b, "forbid": ASK_REF, "check_prices": True},
                *finish(lang),
            ],
            "outcome": {"booking": {"hotel_id": "1", "adults": 2, "moved": True}},
        }
    )


HUMAN = {
    "es": "Hola, somos un grupo de 15 para un congreso, ¿me puede llamar alguien para hablar de una tarifa de grupo?",
    "en": "Hi, we're a group of 15 for a conference, could someone call me to discuss a group rate?",
    "pt": "Olá, somos um grupo de 15 para um congresso, alguém pode me ligar para falar de tarifa de grupo?",
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_asking_for_a_person_inside_a_longer_message_hands_off_with_a_task(talk, lang):  # type: ignore[no-untyped-def]
    await talk(
        {
            "id": f"human-{lang}",
            "language": lang,
            "turns": [{"say": HUMAN[lang], "forbid": ["fechas", "dates", "datas"]}],
            "outcome": {"handoff": True, "task_contains": "guest_request"},
        }
    )


COMPLAINT = {
    "es": (
        "Me cobraron dos veces la reserva, quiero que me devuelvan la plata",
        ["lamento"],
        ["cobro duplicado"],
    ),
    "en": (
        "You charged my card twice for the same stay, I want a refund",
        ["sorry"],
        ["double charge"],
    ),
    "pt": (
        "Vocês cobraram duas vezes no meu cartão, quero o reembolso",
        ["sinto muito"],
        ["cobrança em dobro"],
    ),
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_a_complaint_gets_an_apology_a_restatement_and_a_priority_task(talk, lang):  # type: ignore[no-untyped-def]
    text, sorry, what = COMPLAINT[lang]
    await talk(
        {
            "id": f"complaint-{lang}",
            "language": lang,
            "turns": [{"say": text, "expect": [sorry, what], "forbid": ASK_REF}],
            "outcome": {"handoff": True, "task_contains": "priority complaint"},
        }
    )


NOREF = {
    "es": ("quiero cancelar mi reserva", "no tengo el número"),
    "en": ("I need to cancel my booking", "I don't have the booking number"),
    "pt": ("quero cancelar minha reserva", "não tenho o número"),
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_a_guest_without_a_booking_number_is_never_asked_for_it_again(talk, lang):  # type: ignore[no-untyped-def]
    a, b = NOREF[lang]
    await talk(
        {
            "id": f"noref-{lang}",
            "language": lang,
            "turns": [
                {"say": a, "expect": [["XKBKNABJK"]]},
                {"say": b, "forbid": ASK_REF},
                {"say": a, "forbid": ASK_REF},
            ],
            "outcome": {"no_booking": True},
        }
    )


PARTY = {
    "es": [
        ("Habitación del {in} al {out}, solo yo", 1, 0, "la individual"),
        ("del {in} al {out} para dos adultos y dos niños", 2, 2, "la familiar"),
    ],
    "en": [
        ("a room {in} to {out} for my wife and I", 2, 0, ""),
        ("{in} to {out}, two adults and two children", 2, 2, "the family room"),
    ],
    "pt": [
        ("um quarto de {in} a {out} para mim e minha esposa", 2, 0, ""),
        ("de {in} a {out}, só eu", 1, 0, "o individual"),
    ],
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_party_size_is_read_from_how_guests_say_it(talk, lang):  # type: ignore[no-untyped-def]
    for text, adults, children, room in PARTY[lang]:
        await talk(
            {
                "id": f"party-{lang}",
                "language": lang,
                "turns": [
                    {
                        "say": text,
                        "forbid": ["cuántas personas", "how many", "quantas pessoas"],
                        "check_prices": True,
                    },
                    *finish(lang, room),
                ],
                "outcome": {"booking": {"hotel_id": "1", "adults": adults, "children": children}},
            }
        )


TOO_LONG = {
    "es": "quiero reservar del {in} de este año al {out} para 2, pero por 90 noches",
    "en": "I want a room for 2 people for 90 nights from {in}",
    "pt": "quero um quarto para 2 pessoas por 90 noites a partir de {in}",
}


@pytest.mark.parametrize("lang", ["en", "pt"])
async def test_an_absurd_stay_is_a_question_not_a_technical_problem(talk, lang):  # type: ignore[no-untyped-def]
    await talk(
        {
            "id": f"long-{lang}",
            "language": lang,
            "turns": [{"say": TOO_LONG[lang], "expect": [["90"]]}],
            "outcome": {"no_booking": True},
        }
    )


EXTEND = {
    "es": "quiero modificar mi reserva: una noche más, salgo el {out_plus1} en vez del {out}",
    "en": "I'd like to change my booking: one more night, I'll leave on {out_plus1} instead of {out}",
    "pt": "quero alterar minha reserva: mais uma noite, saio dia {out_plus1} em vez de {out}",
}
CONFIRMED_CHANGE = {"es": "Hecho", "en": "Done", "pt": "Pronto"}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_extending_a_booking_is_computed_from_the_booking(talk, lang):  # type: ignore[no-untyped-def]
    stay = {
        "es": "del {in} al {out} para 2 personas",
        "en": "from {in} to {out} for 2 people",
        "pt": "de {in} a {out} para 2 pessoas",
    }
    await talk(
        {
            "id": f"extend-{lang}",
            "language": lang,
            "stay": {"offset": 50, "nights": 2},
            "turns": [
                {"say": stay[lang]},
                *finish(lang),
                {"say": EXTEND[lang], "expect": [["3"]], "forbid": ASK_REF},
                {"say": YES[lang]},
            ],
            "outcome": {"booking": {"hotel_id": "1", "adults": 2, "nights": 3}},
        }
    )


def test_sessions_of_an_older_version_load_and_unknown_ones_start_fresh() -> None:
    old = json.dumps({"conversation_id": "c1", "hotel_id": "1", "language": "es", "pending": None})
    loaded = Session.from_json(old)
    assert loaded is not None and loaded.language == "es" and loaded.version == SESSION_VERSION
    assert loaded.hotel_source == "" and loaded.lacks == []
    future = json.dumps({"conversation_id": "c1", "hotel_id": "1", "version": 99})
    assert Session.from_json(future) is None


def test_example_booking_references_look_like_the_pms_ones() -> None:
    templates = Templates.load()
    for lang in ("es", "en", "pt"):
        text = templates.get(lang).text("messages.ask_reference")
        assert "XKBKNABJK" in text and "HB-" not in text


def test_the_search_form_asks_for_the_first_missing_or_invalid_slot() -> None:
    import datetime as dt

    from posada_conversation.policy.forms import SEARCH_FORM, FormLimits, next_ask

    today = dt.date(2026, 12, 4)
    limits = FormLimits(max_guests=8, max_nights=30)
    asks = [
        ({}, "messages.ask_dates"),
        ({"check_in": "2026-12-01"}, "messages.date_in_past"),
        ({"check_in": "2026-12-10"}, "messages.ask_check_out"),
        ({"check_in": "2026-12-10", "check_out": "2026-12-09"}, "messages.dates_out_of_order"),
        ({"check_in": "2026-12-10", "check_out": "2027-03-10"}, "messages.stay_too_long"),
        ({"check_in": "2026-12-10", "nights": 2}, "messages.ask_adults"),
        ({"check_in": "2026-12-10", "nights": 2, "adults": 12}, "messages.too_many_guests"),
    ]
    for slots, template in asks:
        ask = next_ask(SEARCH_FORM, dict(slots), today, limits)
        assert ask is not None and ask.template == template, (slots, ask)
    done = {"check_in": "2026-12-10", "nights": 1, "adults": 2}
    assert next_ask(SEARCH_FORM, done, today, limits) is None
    assert done["check_out"] == "2026-12-11"  # one night without a check-out date


AC = {
    "es": ("¿tienen aire acondicionado?", "Habitación Doble"),
    "en": ("do you have air conditioning?", "Double Room"),
    "pt": ("vocês têm ar condicionado?", "Quarto Duplo"),
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_an_amenity_of_the_rooms_is_answered_with_the_rooms_that_have_it(talk, lang):  # type: ignore[no-untyped-def]
    text, room = AC[lang]
    await talk(
        {
            "id": f"ac-{lang}",
            "language": lang,
            "turns": [
                {
                    "say": text,
                    "expect": [[room]],
                    "forbid": ["no menciona", "doesn't mention", "não mencionam"],
                }
            ],
            "outcome": {},
        }
    )


BA_COMPLAINT = {
    "es": "Me alojé en el hotel de Buenos Aires y me cobraron dos veces, quiero un reembolso",
    "en": "I stayed at your Buenos Aires hotel and you charged me twice, I want a refund",
    "pt": "Fiquei no hotel de Buenos Aires e vocês cobraram duas vezes, quero reembolso",
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_a_complaint_about_the_other_hotel_is_filed_for_that_hotel(talk, lang):  # type: ignore[no-untyped-def]
    await talk(
        {
            "id": f"ba-complaint-{lang}",
            "language": lang,
            "hotel_id": "2",
            "turns": [{"say": BA_COMPLAINT[lang], "forbid": ASK_REF}],
            "outcome": {"handoff": True, "task_contains": "priority complaint"},
        }
    )


BOTH = {
    "es": "¿qué diferencia hay entre el hotel de Madrid y el de Buenos Aires?",
    "en": "what's the difference between your Madrid and Buenos Aires hotels?",
    "pt": "qual a diferença entre o hotel de Madri e o de Buenos Aires?",
}


@pytest.mark.parametrize("lang", ["es", "en", "pt"])
async def test_naming_both_hotels_asks_which_one(service, mesh, lang):  # type: ignore[no-untyped-def]
    if not (mesh.real_nlp and mesh.real_pms):
        pytest.skip("needs the real nlp and pms")
    from conv_chat import Guest

    g = Guest(service.stub, phone=f"3465{next(_n):07d}")
    await g.say(BOTH[lang])
    assert {"hotel:1", "hotel:2"} <= set(g.buttons()), g.text()
    await g.tap("hotel:2", "Buenos Aires")
    assert "San Telmo" in g.text()
