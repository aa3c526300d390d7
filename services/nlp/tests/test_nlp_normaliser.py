"""Entity extraction and normalisation rules, in Spanish, English and Portuguese.

Reference date 2026-03-04 is a Wednesday (the data conventions' reference date).
"""

from __future__ import annotations

from datetime import date

import pytest
from posada_nlp.entities import extract_entities
from posada_nlp.textnorm import fold, normalise_for_intent

REF = date(2026, 3, 4)


def ents(text: str, **kw: object) -> set[tuple[str, object]]:
    return {(e.type, e.value) for e in extract_entities(text, REF, **kw)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the Spanish cases dateparser gets wrong
        ("el viernes", {("check_in", "2026-03-06")}),
        ("este viernes", {("check_in", "2026-03-06")}),
        ("el próximo viernes", {("check_in", "2026-03-06")}),
        ("el viernes que viene", {("check_in", "2026-03-06")}),
        ("el miércoles", {("check_in", "2026-03-04")}),
        ("pasado mañana", {("check_in", "2026-03-06")}),
        ("dentro de dos días", {("check_in", "2026-03-06")}),
        ("en 2 dias", {("check_in", "2026-03-06")}),
        ("del 15 al 17 de agosto", {("check_in", "2026-08-15"), ("check_out", "2026-08-17")}),
        ("12/03", {("check_in", "2026-03-12")}),
        ("12-03", {("check_in", "2026-03-12")}),
        ("25/12", {("check_in", "2026-12-25")}),
        ("12/3/2026", {("check_in", "2026-03-12")}),
        ("el finde", {("check_in", "2026-03-06"), ("check_out", "2026-03-08")}),
        ("este fin de semana", {("check_in", "2026-03-06"), ("check_out", "2026-03-08")}),
        ("mañana", {("check_in", "2026-03-05")}),
        ("hoy", {("check_in", "2026-03-04")}),
        ("5 de enero", {("check_in", "2027-01-05")}),
        ("hasta el 15", {("check_out", "2026-03-15")}),
        ("del 5 al 8", {("check_in", "2026-03-05"), ("check_out", "2026-03-08")}),
        (
            "del 30 de julio al 2 de agosto",
            {("check_in", "2026-07-30"), ("check_out", "2026-08-02")},
        ),
        ("del 28/12 al 2/1", {("check_in", "2026-12-28"), ("check_out", "2027-01-02")}),
        ("entre el 3 y el 6 de mayo", {("check_in", "2026-05-03"), ("check_out", "2026-05-06")}),
        (
            "llegamos el 10 y salimos el 14",
            {("check_in", "2026-03-10"), ("check_out", "2026-03-14")},
        ),
        # English
        ("friday", {("check_in", "2026-03-06")}),
        ("next friday", {("check_in", "2026-03-06")}),
        ("the day after tomorrow", {("check_in", "2026-03-06")}),
        ("in two days", {("check_in", "2026-03-06")}),
        ("this weekend", {("check_in", "2026-03-06"), ("check_out", "2026-03-08")}),
        ("from March 10 to 15", {("check_in", "2026-03-10"), ("check_out", "2026-03-15")}),
        ("August 15th-17th", {("check_in", "2026-08-15"), ("check_out", "2026-08-17")}),
        ("from the 5th to the 8th", {("check_in", "2026-03-05"), ("check_out", "2026-03-08")}),
        ("until the 15th", {("check_out", "2026-03-15")}),
        ("tomorrow", {("check_in", "2026-03-05")}),
        # Portuguese
        ("sexta", {("check_in", "2026-03-06")}),
        ("sexta-feira", {("check_in", "2026-03-06")}),
        ("na quinta", {("check_in", "2026-03-05")}),
        ("depois de amanhã", {("check_in", "2026-03-06")}),
        ("daqui a dois dias", {("check_in", "2026-03-06")}),
        ("fim de semana", {("check_in", "2026-03-06"), ("check_out", "2026-03-08")}),
        ("do dia 10 ao dia 12 de abril", {("check_in", "2026-04-10"), ("check_out", "2026-04-12")}),
        ("até dia 15", {("check_out", "2026-03-15")}),
        ("12 de março", {("check_in", "2026-03-12")}),
        ("amanhã", {("check_in", "2026-03-05")}),
    ],
)
def test_dates_resolve_against_the_reference_date(
    text: str, expected: set[tuple[str, object]]
) -> None:
    assert {e for e in ents(text) if e[0] in ("check_in", "check_out")} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("para el quince de junio, dos noches", {("check_in", "2026-06-15"), ("nights", 2)}),
        (
            "del quince al dieciocho de junio",
            {("check_in", "2026-06-15"), ("check_out", "2026-06-18")},
        ),
        ("el primero de abril", {("check_in", "2026-04-01")}),
        (
            "del veintiuno al veinticuatro de mayo",
            {("check_in", "2026-05-21"), ("check_out", "2026-05-24")},
        ),
        ("for the twentieth of June, two nights", {("check_in", "2026-06-20"), ("nights", 2)}),
        (
            "from June twenty first to June twenty fourth",
            {("check_in", "2026-06-21"), ("check_out", "2026-06-24")},
        ),
        (
            "de vinte e dois a vinte e cinco de maio",
            {("check_in", "2026-05-22"), ("check_out", "2026-05-25")},
        ),
    ],
)
def test_days_written_as_words_as_voice_transcripts_give_them(
    text: str, expected: set[tuple[str, object]]
) -> None:
    assert ents(text) == expected


def test_morning_is_not_tomorrow() -> None:
    assert ents("mañana por la mañana") == {("check_in", "2026-03-05")}
    assert ents("llego por la mañana") == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 noches", {("nights", 3)}),
        ("tres noches", {("nights", 3)}),
        ("una sola noche", {("nights", 1)}),
        ("for two nights", {("nights", 2)}),
        ("2 nights", {("nights", 2)}),
        ("quatro noites", {("nights", 4)}),
        ("duas noites", {("nights", 2)}),
        ("para dos", {("adults", 2)}),
        ("somos 4", {("adults", 4)}),
        ("we are four", {("adults", 4)}),
        ("somos cinco", {("adults", 5)}),
        ("una pareja", {("adults", 2)}),
        ("somos una pareja con un bebé", {("adults", 2), ("children", 1)}),
        ("a couple", {("adults", 2)}),
        ("um casal", {("adults", 2)}),
        ("2 adultos y 1 niño", {("adults", 2), ("children", 1)}),
        ("two adults and three kids", {("adults", 2), ("children", 3)}),
        ("dois adultos e duas crianças", {("adults", 2), ("children", 2)}),
        ("for 3 of us", {("adults", 3)}),
        ("sumar una persona, seriamos 3", {("adults", 3)}),
    ],
)
def test_counts_are_integers(text: str, expected: set[tuple[str, object]]) -> None:
    assert ents(text) == expected


def test_talking_to_a_person_is_not_a_guest_count_but_a_request_for_one() -> None:
    assert ents("me pasas con una persona?") == {("person", "person")}
    assert ents("I want to talk to a person") == {("person", "person")}
    assert ents("me transfere pra um atendente humano") == {("person", "person")}
    assert ents("quero falar com um adulto responsavel") == set()
    assert ents("para una") == {("adults", 1)}
    assert ents("somos uno y dos niños") == {("adults", 1), ("children", 2)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("just me, from the 3rd", ("adults", 1)),
        ("solo yo", ("adults", 1)),
        ("só eu", ("adults", 1)),
        ("um quarto para mim e minha esposa", ("adults", 2)),
        ("a room for me and my husband", ("adults", 2)),
        ("para mí y mi pareja", ("adults", 2)),
        ("one more night please", ("extra_nights", 1)),
        ("queremos quedarnos una noche más", ("extra_nights", 1)),
        ("mais duas noites", ("extra_nights", 2)),
        ("you charged my card twice", ("complaint", "double_charge")),
        ("me cobraron dos veces", ("complaint", "double_charge")),
        ("quero o reembolso", ("complaint", "refund")),
        ("I stayed last week and the room was dirty", ("complaint", "complaint")),
        ("estuvimos en agosto y había cucarachas", ("complaint", "complaint")),
        ("ficamos lá em maio, o quarto estava sujo", ("complaint", "complaint")),
        ("could someone call me about a group rate?", ("person", "call_back")),
        ("¿me puede llamar alguien?", ("person", "call_back")),
        ("alguém pode me ligar?", ("person", "call_back")),
    ],
)
def test_party_extension_complaint_and_person_phrases(
    text: str, expected: tuple[str, object]
) -> None:
    assert expected in ents(text)


@pytest.mark.parametrize(
    "text",
    ["transfer me to reservations", "can you transfer me to a human", "me transfere pra recepcao"],
)
def test_being_put_through_to_someone_is_not_the_airport_shuttle(text: str) -> None:
    assert {e for e in ents(text) if e[0] != "person"} == set()


def test_the_airport_transfer_is_still_the_shuttle() -> None:
    assert ents("do you have an airport transfer?") == {("amenity", "airport_shuttle")}
    assert ents("tienen transfer al aeropuerto?") == {("amenity", "airport_shuttle")}


def test_apartar_a_room_is_not_parking() -> None:
    assert ents("quiero apartar un cuarto") == set()


def test_end_of_month_is_not_a_weekend() -> None:
    assert ents("hay habitaciones libres a fin de mes") == set()
    assert ents("para fin de año") == set()
    assert ents("este fin de semana") == {("check_in", "2026-03-06"), ("check_out", "2026-03-08")}


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("mi numero es 311 555 1234", "3115551234"),
        ("numero de contacto 11 5555 1234", "1155551234"),
        ("my number is 0912 345 678", "0912345678"),
    ],
)
def test_phones_written_with_spaces_are_not_booking_references(text: str, phone: str) -> None:
    assert ents(text) == {("phone", phone)}


def test_a_booking_number_after_a_cue_is_still_a_reference() -> None:
    assert ents("el numero de reserva es 48213") == {("booking_ref", "48213")}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("una matrimonial", "double"),
        ("habitación individual", "single"),
        ("una sencilla", "single"),
        ("doble", "double"),
        ("king bed", "double"),
        ("quarto de casal", "double"),
        ("solteiro", "single"),
        ("dos camas", "twin"),
        ("camas separadas", "twin"),
        ("two beds", "twin"),
        ("duas camas", "twin"),
        ("la suite", "suite"),
        ("suíte", "suite"),
        ("familiar", "family"),
        ("family room", "family"),
        ("cuádruple", "family"),
        ("matrimonal", "double"),  # typo
        ("individul", "single"),  # typo
    ],
)
def test_room_type_synonyms(text: str, value: str) -> None:
    assert ("room_type", value) in ents(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("tienen wifi?", "wifi"),
        ("hay wi-fi", "wifi"),
        ("internet", "wifi"),
        ("estacionamiento", "parking"),
        ("aparcamiento", "parking"),
        ("cochera", "parking"),
        ("garage", "parking"),
        ("estacionamento", "parking"),
        ("pileta", "pool"),
        ("alberca", "pool"),
        ("swimming pool", "pool"),
        ("desayuno", "breakfast"),
        ("café da manhã", "breakfast"),
        ("pequeno-almoço", "breakfast"),
        ("gimnasio", "gym"),
        ("academia", "gym"),
        ("masajes", "spa"),
        ("restaurante", "restaurant"),
        ("traslado al aeropuerto", "airport_shuttle"),
        ("airport shuttle", "airport_shuttle"),
        ("transfer do aeroporto", "airport_shuttle"),
        ("aire acondicionado", "air_conditioning"),
        ("does it have AC?", "air_conditioning"),
        ("ar-condicionado", "air_conditioning"),
        ("estacionamineto", "parking"),  # typo
    ],
)
def test_amenity_synonyms(text: str, value: str) -> None:
    assert ("amenity", value) in ents(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mi reserva es HB-4821", {("booking_ref", "HB-4821")}),
        ("reserva 10452", {("booking_ref", "10452")}),
        ("booking number 10452", {("booking_ref", "10452")}),
        ("a reserva #10452", {("booking_ref", "10452")}),
        ("código XKBKNABJK", {("booking_ref", "XKBKNABJK")}),
        ("mi correo es Juan.Perez@Gmail.com", {("email", "juan.perez@gmail.com")}),
        ("my phone is +34 612 345 678", {("phone", "+34612345678")}),
        ("meu celular +55 11 91234-5678", {("phone", "+5511912345678")}),
        ("tel 612345678", {("phone", "612345678")}),
    ],
)
def test_refs_emails_and_phones(text: str, expected: set[tuple[str, object]]) -> None:
    assert ents(text) == expected


def test_a_bare_number_is_a_booking_reference_only_when_one_is_expected() -> None:
    assert ents("10452") == set()
    assert ents("10452", bare_ref_ok=True) == {("booking_ref", "10452")}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("me llamo Juan Pérez", "Juan Pérez"),
        ("a nombre de María de la Cruz", "María de la Cruz"),
        ("my name is John Smith", "John Smith"),
        ("meu nome é joão silva", "joão silva"),
        ("me chamo Ana Souza", "Ana Souza"),
        ("Robert Miller", "Robert Miller"),
        ("Sarah Johnson, sarah.j@yahoo.co.uk", "Sarah Johnson"),
    ],
)
def test_person_names(text: str, name: str) -> None:
    assert ("person_name", name) in ents(text)


def test_common_capitalised_phrases_are_not_names() -> None:
    assert ents("Buenas Noches") == set()
    assert ents("soy de Mexico") == set()


def test_spans_point_into_the_original_text() -> None:
    text = "Quería una habitación DOBLE del 15 al 17 de agosto, ¿sí?"
    for e in extract_entities(text, REF):
        assert text[e.start : e.end] == e.text


def test_folding_keeps_length_and_removes_accents() -> None:
    s = "¿Habitación para MAÑANA? Ação, pequeño-almoço"
    assert len(fold(s)) == len(s)
    assert fold(s) == " habitacion para manana? acao, pequeno-almoco"


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("holaaaa q tal", "hola que tal"),
        ("xfa", "por favor"),
        ("tb quiero desayuno", "tambien quiero desayuno __c_amen"),
        ("cuánto cuesta?", "cuanto cuesta ? __c_price"),
        ("quero trocar a data", "quero trocar a data __c_modify"),
        ("vc tem quarto?", "voce tem quarto ?"),
        ("thx", "thanks"),
        ("finde", "fin de semana"),
    ],
)
def test_whatsapp_abbreviations_are_expanded_for_the_classifier(raw: str, norm: str) -> None:
    assert normalise_for_intent(raw) == norm
