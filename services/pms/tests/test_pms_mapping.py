"""Pure conversions: money in minor units, categories, amenities, policies, statuses, XML."""

from __future__ import annotations

from datetime import date

import pytest
from hotel.pms.v1 import pms_service_pb2 as pms
from hotel.type.v1 import date_pb2
from posada_common.errors import InvalidArgument
from posada_pms import mapping as qlo
from posada_pms.money import to_minor
from posada_pms.qloapps import xml_document
from posada_pms.validation import Violations


def test_prices_become_exact_minor_units() -> None:
    assert to_minor("1650.100000", "EUR") == 165010
    assert to_minor(1650.1, "EUR") == 165010
    assert to_minor(0.005, "EUR") == 1  # half up
    assert to_minor("95000.000000", "ARS") == 9500000
    assert to_minor("1200", "JPY") == 1200
    assert to_minor("", "EUR") == 0


def test_room_names_map_to_categories_in_any_language() -> None:
    assert qlo.room_category("Junior Suite", 3, 4) == pms.ROOM_CATEGORY_SUITE
    assert qlo.room_category("Habitación doble", 2, 3) == pms.ROOM_CATEGORY_DOUBLE
    assert qlo.room_category("Twin Room", 2, 2) == pms.ROOM_CATEGORY_TWIN
    assert qlo.room_category("Family Room", 4, 5) == pms.ROOM_CATEGORY_FAMILY
    assert qlo.room_category("Delux Rooms", 1, 1) == pms.ROOM_CATEGORY_SINGLE  # by capacity


def test_feature_names_map_to_the_amenity_catalogue() -> None:
    names = [
        "Free Wi-Fi",
        "Piscina climatizada",
        "Desayuno buffet",
        "Airport shuttle",
        "Rooftop bar",
    ]
    assert qlo.amenity_values(names) == ["wifi", "pool", "breakfast", "airport_shuttle"]


def test_policy_html_is_split_by_topic_and_times_are_added() -> None:
    html = (
        "<ul><li>Pets are not allowed.</li><li>Free cancellation up to 48 h before arrival.</li>"
        "<li>Children under 4 stay free.</li><li>Smoking is forbidden.</li></ul>"
    )
    out = qlo.policies(html, "14:00", "11:00", [])
    topics = [p.topic for p in out]
    assert topics[:2] == [pms.POLICY_TOPIC_CHECK_IN, pms.POLICY_TOPIC_CHECK_OUT]
    assert {
        pms.POLICY_TOPIC_PETS,
        pms.POLICY_TOPIC_CANCELLATION,
        pms.POLICY_TOPIC_CHILDREN,
        pms.POLICY_TOPIC_SMOKING,
    } <= set(topics)
    assert "14:00" in out[0].text


def test_order_states_map_to_booking_statuses() -> None:
    assert qlo.booking_status(1, [1]) == pms.BOOKING_STATUS_CONFIRMED
    assert qlo.booking_status(4, [1]) == pms.BOOKING_STATUS_CANCELLED
    assert qlo.booking_status(5, []) == pms.BOOKING_STATUS_REFUNDED
    assert qlo.booking_status(2, [2]) == pms.BOOKING_STATUS_CHECKED_IN
    assert qlo.booking_status(2, [3, 3]) == pms.BOOKING_STATUS_CHECKED_OUT


def test_phones_match_with_or_without_country_code() -> None:
    assert qlo.phones_match("+34 600 111 222", "600111222")
    assert qlo.phones_match("+54 9 11 5555-1234", "5491155551234")
    assert not qlo.phones_match("+34600111222", "+34600111223")
    assert not qlo.phones_match("1222", "600111222")


def test_i18n_values_are_read_as_plain_strings_or_language_lists() -> None:
    assert qlo.as_str("Hotel") == "Hotel"
    assert qlo.as_str([{"id": "1", "value": "Hotel"}, {"id": "2", "value": "Hotel ES"}]) == "Hotel"


def test_xml_bodies_are_escaped_and_nested() -> None:
    doc = xml_document(
        "hotel_ari",
        {
            "id_hotel": 1,
            "note": "a<b&c",
            "associations": {
                "room_occupancies": {
                    "room_occupancy": [{"adults": 2, "children": 0}, {"adults": 1, "children": 1}]
                }
            },
        },
    )
    assert doc.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<qloapps><hotel_ari>')
    assert "<note>a&lt;b&amp;c</note>" in doc
    assert doc.count("<room_occupancy>") == 2


def test_violations_name_every_bad_field() -> None:
    v = Violations()
    v.id("hotel_id", "abc")
    ci = v.date("check_in", date_pb2.Date(year=2030, month=2, day=30))
    co = v.date("check_out", None)
    v.stay(ci, co, max_nights=30, max_advance_days=730)
    v.guests(0, -1)
    with pytest.raises(InvalidArgument) as info:
        v.raise_if_any()
    assert set(info.value.field_violations) == {
        "hotel_id",
        "check_in",
        "check_out",
        "adults",
        "children",
    }


def test_stay_rules() -> None:
    today = date(2030, 1, 1)
    v = Violations()
    v.stay(date(2030, 1, 10), date(2030, 1, 10), max_nights=30, max_advance_days=730, today=today)
    assert "check_out" in v.items
    v = Violations()
    v.stay(date(2030, 1, 10), date(2030, 3, 10), max_nights=30, max_advance_days=730, today=today)
    assert "at most 30" in v.items["check_out"]
    v = Violations()
    v.stay(date(2029, 12, 1), date(2029, 12, 3), max_nights=30, max_advance_days=730, today=today)
    assert "past" in v.items["check_in"]


def test_modify_document_sends_back_everything_it_does_not_change() -> None:
    from posada_pms.booking_documents import modified_document
    from posada_pms.model import RoomType

    doc = {
        "id": 15, "id_property": 1, "currency": "EUR", "source": "posada:quote-123", "id_language": 1,
        "associations": {
            "customer_detail": {"id_customer": 7, "firstname": "Ana", "lastname": "Garcia",
                                "email": "ana@example.com", "phone": "+34600000000"},
            "cart_rules": [{"code": "SUMMER10", "value": 10}],
            "room_types": [
                {"id_room_type": 12, "checkin_date": "2030-03-10 00:00:00", "checkout_date": "2030-03-12 00:00:00",
                 "number_of_rooms": 1, "rooms": [{"id_room": 6, "adults": 2, "child": 0,
                                                  "unit_price_without_tax": 240, "total_tax": 24}]},
                {"id_room_type": 13, "checkin_date": "2030-03-10 00:00:00", "checkout_date": "2030-03-12 00:00:00",
                 "number_of_rooms": 1, "rooms": [{"id_room": 9, "adults": 1, "child": 0,
                                                  "unit_price_without_tax": 230, "total_tax": 23}]},
            ],
        },
    }  # fmt: skip
    rt = RoomType("12", "Double", 2, "", "100", 1, 2, 1, 3)
    out = modified_document(doc, rt, date(2030, 3, 11), date(2030, 3, 14), 2, 1, same_stay=False)[
        "booking"
    ]
    assert (out["id"], out["id_property"], out["currency"], out["source"]) == (
        15,
        1,
        "EUR",
        "posada:quote-123",
    )
    assoc = out["associations"]
    assert assoc["customer_detail"]["email"] == "ana@example.com"
    assert assoc["cart_rules"] == [{"code": "SUMMER10"}]
    first, second = assoc["room_types"]
    assert (first["checkin_date"], first["checkout_date"], first["number_of_rooms"]) == (
        "2030-03-11",
        "2030-03-14",
        1,
    )
    assert first["rooms"] == [
        {"adult": 2, "adults": 2, "child": 1, "child_ages": [8], "id_tax_rules_group": 1}
    ]
    assert second["id_room_type"] == 13 and second["checkin_date"] == "2030-03-10"
    assert second["rooms"][0]["id_room"] == 9 and second["rooms"][0]["total_tax"] == 23
    # Same stay (only guests change): the room and its price are pinned.
    same = modified_document(doc, rt, date(2030, 3, 10), date(2030, 3, 12), 1, 0, same_stay=True)
    room = same["booking"]["associations"]["room_types"][0]["rooms"][0]
    assert room["id_room"] == 6 and room["unit_price_without_tax"] == 240 and room["adult"] == 1


def test_policy_lines_are_classified_in_english_spanish_and_portuguese() -> None:
    # "bajo petición" (on request) is not about pets.
    assert qlo.classify_policy("Salida: hasta las 12:00, tardía bajo petición.") == (
        pms.POLICY_TOPIC_CHECK_OUT
    )
    assert qlo.classify_policy("Pets: small pets allowed.") == pms.POLICY_TOPIC_PETS
    assert qlo.classify_policy("Animais de estimação: não são permitidos.") == pms.POLICY_TOPIC_PETS
    assert qlo.classify_policy("Pagamento: dinheiro ou cartão.") == pms.POLICY_TOPIC_PAYMENT
    assert qlo.classify_policy("Crianças: berço grátis.") == pms.POLICY_TOPIC_CHILDREN
    assert qlo.classify_policy("Proibido fumar em todo o hotel.") == pms.POLICY_TOPIC_SMOKING
    assert qlo.classify_policy("Cancelamento gratuito até 72 horas.") == (
        pms.POLICY_TOPIC_CANCELLATION
    )
    assert qlo.classify_policy("Taxa turística: não se aplica.") == pms.POLICY_TOPIC_OTHER
