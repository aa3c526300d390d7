"""Writes the dialogue-eval scenarios (YAML) and freezes a seeded ~40 % of them.

Run once: `python services/conversation/eval/make_scenarios.py`. The scenarios were written
before the policy was fixed, from how guests write (regional phrasings, typos, corrections,
several questions in one message, complaints), not from observed failures. `frozen/` is the
part nobody reads while working on the policy; `dev/` is the part one may look at.

Placeholders in what the guest says are filled at run time, per language, from `stay`
(days from today): {in} {out} (full dates), {in_day} {out_day} (day of month),
{out_plus1} (one day after check-out), {in2} {out2} (a second stay, for corrections).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent / "scenarios"
SEED = 11
NAME = {"es": "Lucía Fernández", "en": "Tom Baker", "pt": "Beatriz Souza"}
EMAIL = {
    "es": "lucia.fernandez@example.com",
    "en": "tom.baker@example.com",
    "pt": "bia.souza@example.com",
}
YES = {
    "es": ["sí, confirma", "si dale", "sí, perfecto"],
    "en": ["yes please", "yes, confirm", "yep go ahead"],
    "pt": ["sim, confirma", "pode confirmar", "sim"],
}
# What a reply must show per hotel (currency) and must never show (the other hotel).
CURRENCY = {"1": ["€"], "2": ["ARS", "$"]}
OTHER_HOTEL = {"1": ["San Telmo", "ARS"], "2": ["Posada del Prado", "€"]}
TECH = ["technical problem", "problema técnico", "problema técnico"]
ASK_REF = ["número de reserva", "booking number", "booking reference", "número da reserva"]


def finish_booking(lang: str, rng: random.Random, choose: str) -> list[dict[str, Any]]:
    return [
        {"say": choose, "expect": [["nombre", "name", "nome"]]},
        {"say": NAME[lang]},
        {"say": EMAIL[lang]},
        {"say": rng.choice(YES[lang])},
    ]


def booking_outcome(
    hotel: str, adults: int, children: int = 0, nights: int = 2, **extra: Any
) -> dict[str, Any]:
    return {
        "booking": {
            "hotel_id": hotel,
            "adults": adults,
            "children": children,
            "nights": nights,
            **extra,
        }
    }


def scenarios(rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(
        sid: str,
        lang: str,
        stay: dict[str, int],
        turns: list[dict[str, Any]],
        outcome: dict[str, Any],
        hotel: str = "1",
        **kw: Any,
    ) -> None:
        strict = kw.pop("strict_hotel", hotel == "2")
        forbid = list(TECH) + (OTHER_HOTEL[hotel] if strict else [])
        out.append(
            {
                "id": sid,
                "language": lang,
                "hotel_id": hotel,
                "stay": stay,
                "forbid": forbid,
                "turns": turns,
                "outcome": outcome,
                **kw,
            }
        )

    # 1. plain bookings, Madrid
    plain = {
        "es": [
            "Hola! queria reservar una habitacion doble del {in} al {out} para 2 personas",
            "Buenas, tienen lugar del {in} al {out}? somos dos",
            "hola quiero reservar para el {in} hasta el {out}, 2 adultos",
        ],
        "en": [
            "Hi, I'd like to book a double room from {in} to {out} for 2 people",
            "hello do you have a room {in} - {out}, two adults",
            "Hey, need a room for two from the {in_day} to the {out_day} of the month, {in} to {out}",
        ],
        "pt": [
            "Olá, queria reservar um quarto duplo de {in} a {out} para 2 pessoas",
            "oi, tem quarto do dia {in} ao {out}? somos 2",
            "Bom dia! Gostaria de reservar de {in} até {out}, dois adultos",
        ],
    }
    choose = {"es": "la doble", "en": "the double room", "pt": "o quarto duplo"}
    for lang, phrases in plain.items():
        for i, p in enumerate(phrases[:2]):
            add(
                f"{lang}-plain-booking-{i}",
                lang,
                {"offset": rng.randint(30, 70), "nights": 2},
                [
                    {"say": p, "expect": [CURRENCY["1"]], "check_prices": True},
                    *finish_booking(lang, rng, choose[lang]),
                ],
                booking_outcome("1", 2, category="double"),
            )

    # 2. Buenos Aires by city / neighbourhood, ARS
    ba = {
        "es": [
            "Hola, quiero reservar en el hotel de Buenos Aires del {in} al {out} para 2",
            "buenas! busco alojamiento en San Telmo, del {in} al {out}, somos 2 adultos",
            "Che, tienen disponibilidad en Buenos Aires para el {in} al {out}? dos personas",
        ],
        "en": [
            "Hi! I'd like to book your Buenos Aires hotel from {in} to {out}, 2 adults",
            "Looking for a room in San Telmo {in} to {out} for two",
        ],
        "pt": [
            "Olá, quero reservar no hotel de Buenos Aires de {in} a {out} para 2 pessoas",
            "oi, vocês têm quarto em San Telmo de {in} a {out}? somos dois",
        ],
    }
    for lang, phrases in ba.items():
        for i, p in enumerate(phrases):
            add(
                f"{lang}-ba-booking-{i}",
                lang,
                {"offset": rng.randint(30, 70), "nights": 2},
                [
                    {"say": p, "expect": [CURRENCY["2"]], "check_prices": True},
                    *finish_booking(lang, rng, choose[lang]),
                ],
                booking_outcome("2", 2, category="double"),
                hotel="2",
            )

    # 3. switching hotel mid-booking
    switch = {
        "es": (
            "Hola, quiero una habitación del {in} al {out} para 2 personas",
            "perdón, en realidad es para el de Buenos Aires",
        ),
        "en": (
            "Hi, a room from {in} to {out} for 2 please",
            "sorry, actually I meant the one in Buenos Aires",
        ),
        "pt": (
            "Oi, quero um quarto de {in} a {out} para 2 pessoas",
            "desculpa, na verdade é no hotel de Buenos Aires",
        ),
    }
    for lang, (a, b) in switch.items():
        add(
            f"{lang}-switch-hotel",
            lang,
            {"offset": rng.randint(30, 70), "nights": 2},
            [
                {"say": a, "expect": [CURRENCY["1"]]},
                {
                    "say": b,
                    "expect": [CURRENCY["2"], ["San Telmo", "Buenos Aires"]],
                    "forbid": OTHER_HOTEL["2"],
                    "check_prices": True,
                },
                *(
                    {**t, "forbid": OTHER_HOTEL["2"]}
                    for t in finish_booking(lang, rng, choose[lang])
                ),
            ],
            booking_outcome("2", 2, category="double"),
            hotel="2",
            strict_hotel=False,
        )

    # 4. change of mind while booking (room type, dates)
    mind = {
        "es": (
            "Quiero reservar del {in} al {out} para dos",
            "la doble",
            "uy perdón, mejor una twin",
            "la twin",
        ),
        "en": (
            "I want to book {in} to {out} for two adults",
            "the double",
            "actually, a twin instead",
            "the twin",
        ),
        "pt": (
            "Quero reservar de {in} a {out} para dois",
            "o duplo",
            "na verdade, prefiro um twin",
            "o twin",
        ),
    }
    for lang, (a, b, c, d) in mind.items():
        add(
            f"{lang}-change-room-mind",
            lang,
            {"offset": rng.randint(30, 70), "nights": 2},
            [
                {"say": a},
                {"say": b},
                {"say": c, "forbid": ASK_REF, "expect": [["Twin"]]},
                *finish_booking(lang, rng, d),
            ],
            booking_outcome("1", 2, category="twin"),
        )
    dates = {
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
    for lang, (a, b) in dates.items():
        add(
            f"{lang}-change-dates-mind",
            lang,
            {"offset": rng.randint(30, 60), "nights": 2, "offset2": 3},
            [
                {"say": a},
                {"say": b, "forbid": ASK_REF, "check_prices": True},
                *finish_booking(lang, rng, choose[lang]),
            ],
            booking_outcome("1", 2, category="double", moved=True),
        )

    # 5. party-size phrasings
    party = {
        "es": [
            ("Hola, queremos reservar del {in} al {out}, somos mi mujer y yo", 2, 0),
            ("reserva del {in} al {out} para dos adultos y dos niños", 2, 2),
            ("Habitación del {in} al {out}, solo yo", 1, 0),
        ],
        "en": [
            ("Hi, room for my wife and I from {in} to {out}", 2, 0),
            ("Room from {in} to {out}, two adults and two children", 2, 2),
            ("a room {in} to {out}, just me", 1, 0),
        ],
        "pt": [
            ("Oi, um quarto de {in} a {out} para mim e minha esposa", 2, 0),
            ("quarto de {in} a {out}, dois adultos e duas crianças", 2, 2),
            ("um quarto de {in} a {out}, só eu", 1, 0),
        ],
    }
    room_for = {
        (2, 0): choose,
        (2, 2): {"es": "la familiar", "en": "the family room", "pt": "o quarto família"},
        (1, 0): {"es": "la individual", "en": "the single room", "pt": "o individual"},
    }
    for lang, items in party.items():
        for i, (p, a, ch) in enumerate(items):
            add(
                f"{lang}-party-{i}",
                lang,
                {"offset": rng.randint(30, 70), "nights": 2},
                [
                    {
                        "say": p,
                        "expect": [CURRENCY["1"]],
                        "forbid": ["cuántas personas", "how many", "quantas pessoas"],
                        "check_prices": True,
                    },
                    *finish_booking(lang, rng, room_for[(a, ch)][lang]),
                ],
                booking_outcome("1", a, ch),
            )

    # 6. multi-question FAQs (facts checked against the hotel data)
    multi = {
        "es": [
            (
                "¿El desayuno está incluido? ¿Y tienen estacionamiento?",
                [["desayuno"], ["pago", "de pago"]],
            ),
            (
                "Puedo llevar a mi perrito? y a que hora es el check in?",
                [["10 kg", "mascota"], ["15:00"]],
            ),
        ],
        "en": [
            ("Is breakfast included? And do you have parking?", [["breakfast"], ["paid", "Paid"]]),
            ("Can I bring my small dog? And what time is check-in?", [["10 kg"], ["15:00"]]),
        ],
        "pt": [
            (
                "O café da manhã está incluído? E vocês têm estacionamento?",
                [["café da manhã"], ["pago"]],
            ),
            (
                "Posso levar meu cachorrinho? E que horas é o check-in?",
                [["10 kg"], ["15h", "15:00"]],
            ),
        ],
    }
    for lang, items in multi.items():
        for i, (q, exp) in enumerate(items):
            add(
                f"{lang}-multi-question-{i}",
                lang,
                {"offset": 40, "nights": 2},
                [
                    {
                        "say": q,
                        "expect": exp,
                        "forbid": [
                            "¡Sí! Tenemos estacionamiento",
                            "Yes! We have parking",
                            "Sim! Temos estacionamento",
                        ],
                    }
                ],
                {"answered": True},
                strict_hotel=True,
            )

    # 7. location with distances
    loc = {
        "es": "¿dónde queda exactamente el hotel? ¿está cerca del Prado? ¿hay metro?",
        "en": "where exactly is the hotel, how far is it from the Prado museum, is there a metro?",
        "pt": "onde fica exatamente o hotel? fica longe do Museu do Prado? tem metrô?",
    }
    for lang, q in loc.items():
        add(
            f"{lang}-location-distances",
            lang,
            {"offset": 40, "nights": 2},
            [{"say": q, "expect": [["Huertas"], ["Antón Martín"]]}],
            {"answered": True},
            strict_hotel=True,
        )

    # 8. BA policies differ
    bapol = {
        "es": "en el hotel de Buenos Aires, hasta cuándo puedo cancelar gratis? y los niños pagan?",
        "en": "for the Buenos Aires hotel: until when can I cancel for free? and do kids pay?",
        "pt": "no hotel de Buenos Aires, até quando posso cancelar de graça? e crianças pagam?",
    }
    for lang, q in bapol.items():
        add(
            f"{lang}-ba-policies",
            lang,
            {"offset": 40, "nights": 2},
            [{"say": q, "expect": [["72"], ["4"]], "forbid": ["7 d"]}],
            {"answered": True},
            hotel="2",
        )

    # 9. handoff inside a longer message / repeated
    human = {
        "es": [
            "Hola, somos un grupo de 15 para un congreso, ¿me puede llamar alguien para hablar de una tarifa de grupo?",
            "quiero hablar con una persona",
        ],
        "en": [
            "Hi, we're a group of 15 for a conference, could someone call me to discuss a group rate?",
            "please, a human",
        ],
        "pt": [
            "Olá, somos um grupo de 15 pessoas para um congresso, alguém pode me ligar para falar de tarifa de grupo?",
            "quero falar com uma pessoa",
        ],
    }
    for lang, (a, _b) in human.items():
        add(
            f"{lang}-handoff-in-message",
            lang,
            {"offset": 40, "nights": 2},
            [{"say": a, "forbid": ["qué fechas", "which dates", "quais datas"]}],
            {"handoff": True},
        )

    # 10. complaints
    comp = {
        "es": "Me cobraron dos veces la reserva!!! quiero que me devuelvan la plata ya",
        "en": "You charged my card twice for the same stay, I want a refund now",
        "pt": "Vocês cobraram duas vezes no meu cartão, quero o reembolso",
    }
    apology = {
        "es": ["lamento", "disculp", "siento"],
        "en": ["sorry", "apolog"],
        "pt": ["desculp", "lament", "sinto"],
    }
    for lang, q in comp.items():
        add(
            f"{lang}-complaint-double-charge",
            lang,
            {"offset": 40, "nights": 2},
            [{"say": q, "expect": [apology[lang]], "forbid": ASK_REF}],
            {"handoff": True, "task_contains": "complaint"},
        )

    # 11. no booking number → not asked twice
    noref = {
        "es": ("quiero cancelar mi reserva", "no tengo el número"),
        "en": ("I need to cancel my booking", "I don't have the booking number"),
        "pt": ("quero cancelar minha reserva", "não tenho o número"),
    }
    for lang, (a, b) in noref.items():
        add(
            f"{lang}-no-reference",
            lang,
            {"offset": 40, "nights": 2},
            [{"say": a}, {"say": b, "forbid": ASK_REF}],
            {"no_booking": True},
        )

    # 12. validation: one night, past dates, weekdays
    one = {
        "es": "una noche el {in}, para 2 personas",
        "en": "one night on {in} for 2 people",
        "pt": "uma noite no dia {in}, para 2 pessoas",
    }
    for lang, q in one.items():
        add(
            f"{lang}-one-night",
            lang,
            {"offset": rng.randint(30, 60), "nights": 1},
            [
                {"say": q, "expect": [CURRENCY["1"]], "check_prices": True},
                *finish_booking(lang, rng, choose[lang]),
            ],
            booking_outcome("1", 2, nights=1),
        )
    return out


def scenarios_v2(rng: random.Random) -> list[dict[str, Any]]:
    """Second batch, written blind after the first round of fixes: harder phrasings and flows."""
    out: list[dict[str, Any]] = []

    def add(
        sid: str,
        lang: str,
        stay: dict[str, int],
        turns: list[dict[str, Any]],
        outcome: dict[str, Any],
        hotel: str = "1",
        strict: bool = True,
    ) -> None:
        forbid = list(TECH) + (OTHER_HOTEL[hotel] if strict else [])
        out.append(
            {
                "id": f"v2-{sid}",
                "language": lang,
                "hotel_id": hotel,
                "stay": stay,
                "forbid": forbid,
                "turns": turns,
                "outcome": outcome,
            }
        )

    choose = {"es": "la doble", "en": "the double", "pt": "o duplo"}
    off = lambda: {"offset": rng.randint(75, 140), "nights": 2}  # noqa: E731
    typo = {
        "es": "hola kiero reserbar una havitacion doble del {in} al {out} pa 2",
        "en": "hi i wanna book a dubble room {in} to {out} 2 ppl",
        "pt": "oi qro reservar um qarto duplo de {in} a {out} p 2 pessoas",
    }
    for lang, q in typo.items():
        add(
            f"{lang}-typos-booking",
            lang,
            off(),
            [{"say": q, "check_prices": True}, *finish_booking(lang, rng, choose[lang])],
            booking_outcome("1", 2, category="double"),
        )
    dig = {
        "es": (
            "Quiero reservar del {in} al {out} para 2",
            "una pregunta, ¿tienen wifi?",
            ["Wi-Fi"],
        ),
        "en": ("I'd like to book {in} to {out} for 2", "quick question, is there wifi?", ["Wi-Fi"]),
        "pt": ("Quero reservar de {in} a {out} para 2", "uma pergunta, tem wifi?", ["Wi-Fi"]),
    }
    for lang, (a, b, e) in dig.items():
        add(
            f"{lang}-digression",
            lang,
            off(),
            [{"say": a}, {"say": b, "expect": [e]}, *finish_booking(lang, rng, choose[lang])],
            booking_outcome("1", 2, category="double"),
        )
    night = {
        "es": "necesito una habitación para la noche del {in}, somos 2",
        "en": "I need a room for the night of {in}, 2 adults",
        "pt": "preciso de um quarto para a noite de {in}, somos 2",
    }
    for lang, q in night.items():
        add(
            f"{lang}-night-of",
            lang,
            {"offset": rng.randint(75, 140), "nights": 1},
            [{"say": q, "check_prices": True}, *finish_booking(lang, rng, choose[lang])],
            booking_outcome("1", 2, nights=1),
        )
    wk = {
        "es": "llegamos el sábado y nos vamos el lunes, somos 2",
        "en": "we arrive Saturday and leave Monday, 2 of us",
        "pt": "chegamos no sábado e saímos na segunda, somos 2",
    }
    for lang, q in wk.items():
        add(
            f"{lang}-weekdays",
            lang,
            {"weekday": 5, "nights": 2},
            [{"say": q}, *finish_booking(lang, rng, choose[lang])],
            booking_outcome("1", 2, nights=2),
        )
    ask = {
        "es": (
            "¿hay alguien en recepción con quien pueda hablar?",
            "sí, con una persona por favor",
        ),
        "en": ("is there someone at reception I could talk to?", "yes please, a real person"),
        "pt": ("tem alguém na recepção com quem eu possa falar?", "sim, com uma pessoa por favor"),
    }
    for lang, (a, b) in ask.items():
        add(f"{lang}-human-twice", lang, off(), [{"say": a}, {"say": b}], {"handoff": True})
    past = {
        "es": "Estuve la semana pasada y la habitación estaba sucia y el aire no funcionaba. Quiero un reembolso.",
        "en": "I stayed last week, the room was dirty and the AC didn't work. I want a refund.",
        "pt": "Fiquei semana passada, o quarto estava sujo e o ar não funcionava. Quero reembolso.",
    }
    apology = {"es": ["lamento", "siento"], "en": ["sorry"], "pt": ["sinto", "lament"]}
    for lang, q in past.items():
        add(
            f"{lang}-past-stay-refund",
            lang,
            off(),
            [{"say": q, "expect": [apology[lang]], "forbid": ["Noted", "Anotado", "Anotei"]}],
            {"handoff": True, "task_contains": "complaint"},
        )
    pool = {
        "es": ("¿el hotel de San Telmo tiene piscina?", ["piscina"]),
        "en": ("does the San Telmo hotel have a pool?", ["pool"]),
        "pt": ("o hotel de San Telmo tem piscina?", ["piscina"]),
    }
    for lang, (q, e) in pool.items():
        add(
            f"{lang}-ba-pool",
            lang,
            off(),
            [{"say": q, "expect": [e, ["temporada", "seasonal", "sazonal"]]}],
            {},
            hotel="2",
        )
    baloc = {
        "es": "¿dónde queda el hotel de Buenos Aires? ¿está lejos del aeropuerto?",
        "en": "where is the Buenos Aires hotel? how far is the airport?",
        "pt": "onde fica o hotel de Buenos Aires? é longe do aeroporto?",
    }
    for lang, q in baloc.items():
        add(
            f"{lang}-ba-location",
            lang,
            off(),
            [{"say": q, "expect": [["Defensa"], ["Ezeiza"]]}],
            {},
            hotel="2",
        )
    palermo = {
        "es": "Hola! vamos a Buenos Aires, ¿tienen habitación del {in} al {out} para 2?",
        "en": "Hello, we're heading to Argentina, any room in your Buenos Aires hotel {in} to {out} for 2?",
        "pt": "Oi! Vamos pra Argentina, tem quarto no hotel de Buenos Aires de {in} a {out} pra 2?",
    }
    for lang, q in palermo.items():
        add(
            f"{lang}-ba-argentina",
            lang,
            off(),
            [
                {"say": q, "expect": [CURRENCY["2"]], "check_prices": True},
                *finish_booking(lang, rng, choose[lang]),
            ],
            booking_outcome("2", 2, category="double"),
            hotel="2",
        )
    cancel = {
        "es": ("quiero cancelar la reserva", "sí"),
        "en": ("I want to cancel that booking", "yes"),
        "pt": ("quero cancelar a reserva", "sim"),
    }
    start = {
        "es": "Reserva del {in} al {out} para 2 personas",
        "en": "Book {in} to {out} for 2 people",
        "pt": "Reserva de {in} a {out} para 2 pessoas",
    }
    for lang, (a, b) in cancel.items():
        add(
            f"{lang}-book-then-cancel",
            lang,
            off(),
            [
                {"say": start[lang]},
                *finish_booking(lang, rng, choose[lang]),
                {"say": a, "forbid": ["XKBKNABJK"]},
                {"say": b},
            ],
            booking_outcome("1", 2, cancelled=True),
        )
    more = {
        "es": "ah, y al final somos 3",
        "en": "oh and actually we're 3 people",
        "pt": "ah, e na verdade somos 3",
    }
    for lang, q in more.items():
        add(
            f"{lang}-guests-change",
            lang,
            off(),
            [
                {"say": start[lang]},
                {"say": q, "check_prices": True},
                *finish_booking(
                    lang,
                    rng,
                    {"es": "la familiar", "en": "the family room", "pt": "o quarto família"}[lang],
                ),
            ],
            booking_outcome("1", 3),
        )
    three = {
        "es": (
            "¿A qué hora es el check-out? ¿Se puede fumar? ¿Aceptan tarjeta?",
            [["12:00"], ["humo", "fumar"], ["Visa"]],
        ),
        "en": (
            "What time is check-out? Can I smoke? Do you take cards?",
            [["12:00"], ["smok"], ["Visa"]],
        ),
        "pt": (
            "Que horas é o check-out? Pode fumar? Aceitam cartão?",
            [["12h", "12:00"], ["fum"], ["Visa"]],
        ),
    }
    for lang, (q, e) in three.items():
        add(f"{lang}-three-questions", lang, off(), [{"say": q, "expect": e}], {})
    return out


def main() -> None:
    rng = random.Random(SEED)
    items = scenarios(rng)
    items_v2 = scenarios_v2(random.Random(SEED + 2))
    for folder in ("dev", "frozen"):
        shutil.rmtree(HERE / folder, ignore_errors=True)
        (HERE / folder).mkdir(parents=True)
    order = list(items)
    random.Random(SEED + 1).shuffle(order)
    frozen = {s["id"] for s in order[: round(len(order) * 0.4)]}
    for s in items:
        folder = "frozen" if s["id"] in frozen else "dev"
        (HERE / folder / f"{s['id']}.yaml").write_text(
            yaml.safe_dump(s, allow_unicode=True, sort_keys=False)
        )
    order2 = list(items_v2)
    random.Random(SEED + 3).shuffle(order2)
    frozen |= {s["id"] for s in order2[: round(len(order2) * 0.4)]}
    for s in items_v2:
        folder = "frozen" if s["id"] in frozen else "dev"
        (HERE / folder / f"{s['id']}.yaml").write_text(
            yaml.safe_dump(s, allow_unicode=True, sort_keys=False)
        )
    total = len(items) + len(items_v2)
    print(f"{total} scenarios: {total - len(frozen)} dev, {len(frozen)} frozen")


if __name__ == "__main__":
    main()
