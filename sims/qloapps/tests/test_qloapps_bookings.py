"""`bookings` (docs/external-apis/qloapps.md#booking-create), `orders` (docs/external-apis/qloapps.md#orders-and-states) and `order_histories` (docs/external-apis/qloapps.md#orders-and-states) flows."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from posada_sim_qloapps.testing import ari_xml, booking_body

J = {"output_format": "JSON"}
D1 = date.today() + timedelta(days=40)
D2 = D1 + timedelta(days=2)


async def create(http, body):
    async with http.post("api/bookings", params=J, json=body) as r:
        return r.status, await r.json()


async def available(http, hotel: int, room_type: int, d1=D1, d2=D2) -> int:
    async with http.post("api/hotel_ari", params=J, data=ari_xml(hotel, d1, d2)) as r:
        body = await r.json()
    rt = next(x for x in body["hotel_ari"]["room_types"] if int(x["id_room_type"]) == room_type)
    return len(rt["rooms"]["available"])


async def test_create_answers_200_with_the_booking_and_an_order_exists(http):
    status, body = await create(
        http, booking_body(12, D1, D2, source="agent:0f3c", remark="Late arrival")
    )
    assert status == 200
    b = body["booking"]
    assert isinstance(b["id"], int) and b["id_property"] == 1 and b["currency"] == "EUR"
    assert b["source"] == "agent:0f3c" and "booking_status" not in b
    assert b["associations"]["remarks"] == ["Late arrival"]
    rt = b["associations"]["room_types"][0]
    assert rt["id_room_type"] == 12 and rt["number_of_rooms"] == 1
    assert rt["checkin_date"] == f"{D1} 00:00:00"
    room = rt["rooms"][0]
    assert room["adults"] == 2 and room["child"] == 0  # base occupancy when none given
    # Reference and state live on the order (docs/external-apis/qloapps.md#orders-and-states); pay-at-hotel, nothing paid → Awaiting payment.
    async with http.get(f"api/orders/{b['id']}", params=J) as r:
        order = (await r.json())["order"]
    assert len(order["reference"]) == 9 and order["reference"].isalpha()
    assert order["current_state"] == "1" and order["module"] == "wsorder"
    assert float(order["total_paid_tax_incl"]) == round(
        float(order["total_paid_tax_excl"]) * 1.1, 2
    )
    assert order["associations"]["bookings"] == [{"id": str(room["id_hotel_booking"])}]
    # The idempotency token in `source` can be found again (docs/external-apis/qloapps.md#booking-create).
    async with http.get(
        "api/orders", params={**J, "filter[source]": "[agent:0f3c]", "display": "[id,source]"}
    ) as r:
        assert (await r.json()) == {"orders": [{"id": b["id"], "source": "agent:0f3c"}]}
    async with http.get("api/customers", params={**J, "filter[email]": "[guest@example.com]"}) as r:
        assert len((await r.json())["customers"]) == 1


async def test_create_is_not_idempotent(http):
    body = booking_body(12, D1, D2, source="agent:same")
    assert (await create(http, body))[0] == 200
    assert (await create(http, body))[0] == 200
    async with http.get("api/orders", params={**J, "filter[source]": "[agent:same]"}) as r:
        assert len((await r.json())["orders"]) == 2


async def test_create_validation_errors_are_400_code_404(http):
    base = booking_body(12, D1, D2)

    def variant(fn):
        b = copy.deepcopy(base)
        fn(b["booking"])
        return b

    cases = [
        (variant(lambda b: b.update(currency="XXX")), "Please provide valid currency."),
        (variant(lambda b: b.update(id_property=9)), "Please provide a valid id_property."),
        (
            variant(lambda b: b["associations"].pop("customer_detail")),
            "Customer details not found.",
        ),
        (
            variant(lambda b: b["associations"]["customer_detail"].update(email="nope")),
            "Please provide a valid email.",
        ),
        (
            variant(lambda b: b["associations"]["customer_detail"].pop("phone")),
            "Please provide a valid phone number.",
        ),
        (
            variant(lambda b: b["associations"]["customer_detail"].update(city="Madrid")),
            "Address is required.",
        ),
        (variant(lambda b: b.update(booking_status=9)), "Invalid booking status."),
        (
            variant(lambda b: b["associations"]["payment_detail"].update(payment_type="card")),
            "Invalid payment type.",
        ),
        (
            variant(lambda b: b["associations"]["room_types"][0].pop("id_room_type")),
            "Id room type is missing",
        ),
        (
            variant(lambda b: b["associations"]["room_types"][0].update(id_room_type=17)),
            "Invalid room type in the request",
        ),
        (
            variant(lambda b: b["associations"]["room_types"][0].update(checkin_date="soon")),
            "Invalid check in date in the request",
        ),
        (
            variant(
                lambda b: b["associations"]["room_types"][0].update(
                    checkin_date=str(D2), checkout_date=str(D1)
                )
            ),
            "Invalid check in and check out dates in the request",
        ),
        (
            variant(
                lambda b: b["associations"]["room_types"][0].update(
                    rooms=[{"adult": 1}, {"adult": 1}]
                )
            ),
            "Room count does not matches with the number of rooms",
        ),
        (
            variant(lambda b: b["associations"]["room_types"][0].update(number_of_rooms=5)),
            "Requested room(s) not available.",
        ),
        (variant(lambda b: b.update(id=4)), "id is forbidden when adding a new resource"),
    ]
    for body, message in cases:
        status, out = await create(http, body)
        assert status == 400, message
        assert out == {"errors": [{"code": 404, "message": message}]}
    async with http.post("api/bookings", params=J, json={"id_property": 1}) as r:
        assert r.status == 400  # top-level `booking` key is mandatory


async def test_sold_out_room_type_and_min_los(http):
    # BA Family Room has one room.
    assert (await create(http, booking_body(20, D1, D2, hotel=2, currency="ARS")))[0] == 200
    status, out = await create(
        http,
        booking_body(20, D1 + timedelta(days=1), D2 + timedelta(days=1), hotel=2, currency="ARS"),
    )
    assert status == 400 and out["errors"][0]["message"] == "Requested room(s) not available."
    # Junior Suite: minimum stay of 2 nights.
    status, out = await create(http, booking_body(14, D1, D1 + timedelta(days=1)))
    assert status == 400 and out["errors"][0]["message"] == "Requested room(s) not available."
    # Past dates are refused by the front-office search rules.
    past = date.today() - timedelta(days=3)
    status, _ = await create(http, booking_body(12, past, past + timedelta(days=1)))
    assert status == 400


async def test_rooms_adult_singular_is_read_and_adults_alone_is_ignored(http):
    body = booking_body(15, D1, D2)
    body["booking"]["associations"]["room_types"][0]["rooms"] = [
        {"adults": 3, "child": 1, "id_tax_rules_group": 1},
        {"adult": 3, "adults": 3, "child": 2, "child_ages": [4, 9], "id_tax_rules_group": 1},
    ]
    body["booking"]["associations"]["room_types"][0]["number_of_rooms"] = 2
    status, out = await create(http, body)
    assert status == 200
    rooms = out["booking"]["associations"]["room_types"][0]["rooms"]
    assert (rooms[0]["adults"], rooms[0]["child"]) == (
        2,
        1,
    )  # base occupancy adults (2), child kept
    assert (rooms[1]["adults"], rooms[1]["child"]) == (3, 2)


async def test_rooms_without_tax_fields_create_the_order_but_answer_500(http):
    body = booking_body(13, D1, D2, source="agent:notice")
    body["booking"]["associations"]["room_types"][0]["rooms"] = [
        {"adult": 2, "adults": 2, "child": 0}
    ]
    status, out = await create(http, body)
    assert (
        status == 500
        and out["errors"][0]["code"] == 8
        and "PHP Notice" in out["errors"][0]["message"]
    )
    async with http.get("api/orders", params={**J, "filter[source]": "[agent:notice]"}) as r:
        assert len((await r.json())["orders"]) == 1


async def test_pinned_room_and_whole_stay_unit_price(http):
    body = booking_body(12, D1, D2)
    body["booking"]["associations"]["room_types"][0]["rooms"] = [
        {
            "id_room": 6,
            "adult": 2,
            "adults": 2,
            "unit_price_without_tax": 200,
            "id_tax_rules_group": 1,
        }
    ]
    status, out = await create(http, body)
    assert status == 200
    room = out["booking"]["associations"]["room_types"][0]["rooms"][0]
    assert (
        room["id_room"] == 6 and room["unit_price_without_tax"] == 200 and room["total_tax"] == 20
    )


async def test_get_list_detail_404_and_delete_forbidden(http):
    async with http.get("api/bookings", params=J) as r:
        assert await r.json() == []
    _, out = await create(http, booking_body(12, D1, D2))
    bid = out["booking"]["id"]
    async with http.get("api/bookings", params=J) as r:
        assert await r.json() == {"bookings": [{"id": bid}]}
    async with http.get(f"api/bookings/{bid}", params=J) as r:
        assert (await r.json())["booking"] == out["booking"]
    async with http.get("api/bookings/999", params=J) as r:
        assert r.status == 404 and await r.read() == b""
    async with http.delete(f"api/bookings/{bid}", params=J) as r:
        assert r.status == 405 and (await r.json())["errors"][0]["code"] == 101


async def test_create_with_an_xml_body_and_xml_style_lists(http):
    xml = f"""<qloapps><booking><id_property>2</id_property><currency>ARS</currency><source>agent:xml</source>
      <associations><customer_detail><firstname>Juan</firstname><lastname>Pérez</lastname>
      <email>juan@example.com</email><phone>+5491144445555</phone></customer_detail>
      <room_types><room_type><id_room_type>17</id_room_type><checkin_date>{D1}</checkin_date>
      <checkout_date>{D2}</checkout_date><number_of_rooms>1</number_of_rooms></room_type></room_types>
      </associations></booking></qloapps>"""
    async with http.post("api/bookings", data=xml) as r:
        assert r.status == 200
        text = await r.text()
    assert "<booking>" in text and "<currency><![CDATA[ARS]]></currency>" in text


async def test_cancel_with_order_histories_frees_the_room(http):
    _, out = await create(http, booking_body(20, D1, D2, hotel=2, currency="ARS"))
    bid = out["booking"]["id"]
    assert await available(http, 2, 20) == 0
    xml = f"<qloapps><order_history><id_order>{bid}</id_order><id_order_state>4</id_order_state></order_history></qloapps>"
    async with http.post("api/order_histories", params=J, data=xml) as r:
        assert r.status == 201
        assert (await r.json())["order_history"]["id_order_state"] == "4"
    async with http.get(f"api/orders/{bid}", params=J) as r:
        assert (await r.json())["order"]["current_state"] == "4"
    async with http.get(
        "api/room_bookings",
        params={**J, "filter[id_order]": str(bid), "display": "[id,is_cancelled,is_refunded]"},
    ) as r:
        row = (await r.json())["bookings"][0]
    assert row["is_cancelled"] == "1" and row["is_refunded"] == "1"
    assert await available(http, 2, 20) == 1
    async with http.post(
        "api/order_histories",
        params=J,
        data="<qloapps><order_history><id_order>999</id_order><id_order_state>4</id_order_state></order_history></qloapps>",
    ) as r:
        assert r.status == 400


async def test_put_cancel_with_booking_status_3(http):
    _, out = await create(http, booking_body(20, D1, D2, hotel=2, currency="ARS"))
    b = out["booking"]
    b["booking_status"] = 3
    async with http.put(f"api/bookings/{b['id']}", params=J, json={"booking": b}) as r:
        assert r.status == 200
    async with http.get(f"api/orders/{b['id']}", params=J) as r:
        assert (await r.json())["order"]["current_state"] == "4"
    assert await available(http, 2, 20) == 1


async def test_put_replaces_the_room_list(http):
    _, out = await create(http, booking_body(12, D1, D2))
    b = out["booking"]
    old_room = b["associations"]["room_types"][0]["rooms"][0]["id_room"]
    # Move the stay to the twin room type: the double-room line is removed, the twin line added.
    put = {
        "booking": {
            "id": b["id"],
            "id_property": 1,
            "currency": "EUR",
            "associations": {
                "customer_detail": {"email": "guest@example.com"},
                "room_types": [
                    {
                        "id_room_type": 13,
                        "checkin_date": str(D1),
                        "checkout_date": str(D2 + timedelta(days=1)),
                        "number_of_rooms": 1,
                    }
                ],
            },
        }
    }
    async with http.put("api/bookings/0", params=J, json=put) as r:  # URL id is ignored
        assert r.status == 200
        nb = (await r.json())["booking"]
    lines = nb["associations"]["room_types"]
    assert [(x["id_room_type"], x["checkout_date"]) for x in lines] == [
        (13, f"{D2 + timedelta(days=1)} 00:00:00")
    ]
    assert await available(http, 1, 12) == 4  # the double room was released
    assert old_room not in [r["id_room"] for r in lines[0]["rooms"]]
    async with http.get(f"api/orders/{b['id']}", params=J) as r:
        order = (await r.json())["order"]
    assert (
        float(order["total_paid_tax_excl"])
        == nb["associations"]["price_details"]["total_price_without_tax"]
    )


async def test_put_validation(http):
    _, out = await create(http, booking_body(12, D1, D2))
    bid = out["booking"]["id"]
    base = {
        "id": bid,
        "id_property": 1,
        "associations": {
            "customer_detail": {"email": "guest@example.com"},
            "room_types": [
                {
                    "id_room_type": 12,
                    "checkin_date": str(D1),
                    "checkout_date": str(D2),
                    "number_of_rooms": 1,
                }
            ],
        },
    }
    cases = [
        ({**base, "id": None}, "id is required with PUT requests."),
        ({**base, "id": 999}, "Booking not found."),
        (
            {
                **base,
                "associations": {
                    **base["associations"],
                    "customer_detail": {"email": "who@example.com"},
                },
            },
            "Customer not found.",
        ),
        (
            {**base, "associations": {**base["associations"], "room_types": []}},
            "Rooms not found in the request.",
        ),
    ]
    for body, message in cases:
        async with http.put(f"api/bookings/{bid}", params=J, json={"booking": body}) as r:
            assert r.status == 400
            assert (await r.json())["errors"] == [{"code": 404, "message": message}]
    # Sending the same room list back keeps the booking unchanged.
    async with http.put(f"api/bookings/{bid}", params=J, json={"booking": base}) as r:
        assert r.status == 200
        assert (await r.json())["booking"]["associations"]["room_types"] == out["booking"][
            "associations"
        ]["room_types"]


async def test_booking_in_another_currency_is_converted(http):
    status, out = await create(http, booking_body(12, D1, D2, currency="USD"))
    assert status == 200 and out["booking"]["currency"] == "USD"
    async with http.post("api/hotel_ari", params=J, data=ari_xml(1, D1, D2)) as r:
        eur = next(
            x for x in (await r.json())["hotel_ari"]["room_types"] if x["id_room_type"] == "12"
        )
    usd = out["booking"]["associations"]["price_details"]["total_price_without_tax"]
    assert abs(usd - eur["total_price"] * 1.08) < 0.05


async def test_put_can_extend_a_stay_on_the_only_room(http):
    # BA Family has a single room: moving/extending the stay must not collide with itself.
    _, out = await create(http, booking_body(20, D1, D2, hotel=2, currency="ARS"))
    bid = out["booking"]["id"]
    put = {
        "booking": {
            "id": bid,
            "id_property": 2,
            "associations": {
                "customer_detail": {"email": "guest@example.com"},
                "room_types": {
                    "room_type": {
                        "id_room_type": 20,
                        "checkin_date": str(D1),
                        "checkout_date": str(D2 + timedelta(days=2)),
                        "number_of_rooms": 1,
                    }
                },
            },
        }
    }
    async with http.put(f"api/bookings/{bid}", params=J, json=put) as r:
        assert r.status == 200
        line = (await r.json())["booking"]["associations"]["room_types"][0]
    assert (
        line["checkout_date"] == f"{D2 + timedelta(days=2)} 00:00:00"
        and line["rooms"][0]["id_room"] == 22
    )
    # Another guest cannot take those nights now.
    status, _ = await create(
        http,
        booking_body(
            20, D2, D2 + timedelta(days=1), hotel=2, currency="ARS", email="other@example.com"
        ),
    )
    assert status == 400


async def test_put_that_needs_an_unavailable_room_changes_nothing(http):
    _, first = await create(http, booking_body(20, D1, D2, hotel=2, currency="ARS"))
    status, _ = await create(
        http,
        booking_body(
            20, D2, D2 + timedelta(days=2), hotel=2, currency="ARS", email="other@example.com"
        ),
    )
    assert status == 200
    bid = first["booking"]["id"]
    put = {
        "booking": {
            "id": bid,
            "id_property": 2,
            "associations": {
                "customer_detail": {"email": "guest@example.com"},
                "room_types": [
                    {
                        "id_room_type": 20,
                        "checkin_date": str(D1),
                        "checkout_date": str(D2 + timedelta(days=1)),
                        "number_of_rooms": 1,
                    }
                ],
            },
        }
    }
    async with http.put(f"api/bookings/{bid}", params=J, json=put) as r:
        assert r.status == 400
        assert (await r.json())["errors"][0]["message"] == "Requested room(s) not available"
    async with http.get(f"api/bookings/{bid}", params=J) as r:
        assert (await r.json())["booking"] == first["booking"]
