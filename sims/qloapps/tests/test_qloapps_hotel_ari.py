"""`hotel_ari` (docs/external-apis/qloapps.md#availability-search): XML-only search, occupancy not filtering, prices by weekday/season, errors."""

from __future__ import annotations

from datetime import date, timedelta

from posada_sim_qloapps.testing import ari_xml, booking_body

J = {"output_format": "JSON"}
NEXT_YEAR = date.today().year + 1


def first_weekday(year: int, month: int, weekday: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(weekday - d.weekday()) % 7)


async def ari(http, body: str, params=None):
    async with http.post(
        "api/hotel_ari", params=params or J, data=body, headers={"Content-Type": "application/xml"}
    ) as r:
        return r.status, await r.json()


def by_type(result: dict) -> dict[int, dict]:
    return {int(rt["id_room_type"]): rt for rt in result["hotel_ari"]["room_types"]}


async def test_prices_vary_by_weekday_and_season_with_tax(http):
    monday = first_weekday(NEXT_YEAR, 5, 0)  # May = Madrid high season (+20 %, Fri/Sat +35 %)
    status, body = await ari(http, ari_xml(1, monday, monday + timedelta(days=7)))
    assert status == 200
    assert body["hotel_ari"]["currency"] == "EUR"
    double = by_type(body)[12]
    assert double["total_price"] == 144 * 5 + 162 * 2
    assert double["total_price_with_tax"] == round((144 * 5 + 162 * 2) * 1.10, 2)
    assert double["base_price"] == round((144 * 5 + 162 * 2) / 7, 2)
    # August low season (-15 %) on weekdays, but the all-year weekend rule wins on Friday nights.
    aug_mon = first_weekday(NEXT_YEAR, 8, 0)
    _, body = await ari(http, ari_xml(1, aug_mon, aug_mon + timedelta(days=1)))
    assert by_type(body)[12]["total_price"] == 102
    aug_fri = first_weekday(NEXT_YEAR, 8, 4)
    _, body = await ari(http, ari_xml(1, aug_fri, aug_fri + timedelta(days=1)))
    assert by_type(body)[12]["total_price"] == 138
    # New Year's Eve: a specific-date fixed price.
    nye = date(NEXT_YEAR, 12, 31)
    _, body = await ari(http, ari_xml(1, nye, nye + timedelta(days=1)))
    assert by_type(body)[12]["total_price"] == 192


async def test_buenos_aires_prices_in_ars_with_21_percent_vat(http):
    tue = first_weekday(NEXT_YEAR, 5, 1)  # May = BA low season (-10 %)
    _, body = await ari(http, ari_xml(2, tue, tue + timedelta(days=1)))
    assert body["hotel_ari"]["currency"] == "ARS"
    fam = by_type(body)[20]
    assert fam["total_price"] == 135000 and fam["total_price_with_tax"] == 163350


async def test_occupancy_does_not_filter_availability_but_multiplies_totals(http):
    d = first_weekday(NEXT_YEAR, 10, 1)
    # Five adults in a single room: QloApps still lists the single rooms as available.
    _, body = await ari(http, ari_xml(1, d, d + timedelta(days=1), occupancies=((5, 3),)))
    single = by_type(body)[11]
    assert len(single["rooms"]["available"]) == 3
    assert single["rooms"]["available"]["1"]["max_adult"] == "1"
    one = single["total_price"]
    _, body = await ari(http, ari_xml(1, d, d + timedelta(days=1), occupancies=((1, 0), (1, 0))))
    assert by_type(body)[11]["total_price"] == round(one * 2, 2)


async def test_inactive_rooms_and_length_of_stay_are_applied(http):
    d = first_weekday(NEXT_YEAR, 10, 1)
    extra = "<get_available_rooms>1</get_available_rooms><get_unavailable_rooms>1</get_unavailable_rooms>"
    _, body = await ari(http, ari_xml(1, d, d + timedelta(days=1), extra=extra))
    types = by_type(body)
    assert set(types[12]["rooms"]["available"]) == {"4", "5", "6", "7"}
    assert types[12]["rooms"]["unavailable"]["8"]["detail"][0]["id_status"] == "2"
    # The Junior Suite needs 2 nights: a 1-night search lists it with no available room.
    assert types[14]["rooms"]["available"] == []
    assert types[14]["rooms"]["unavailable"]["11"]["detail"][0]["id_status"] == "4"
    _, body = await ari(http, ari_xml(1, d, d + timedelta(days=2)))
    assert list(by_type(body)[14]["rooms"]["available"]) == ["11"]


async def test_booked_room_disappears_from_available(http):
    d = first_weekday(NEXT_YEAR, 10, 1)
    async with http.post(
        "api/bookings",
        params=J,
        json=booking_body(20, d, d + timedelta(days=2), hotel=2, currency="ARS"),
    ) as r:
        assert r.status == 200
    extra = "<get_available_rooms>1</get_available_rooms><get_booked_rooms>1</get_booked_rooms><get_partial_available_rooms>1</get_partial_available_rooms>"
    _, body = await ari(http, ari_xml(2, d, d + timedelta(days=3), extra=extra))
    fam = by_type(body)[20]
    assert fam["rooms"]["available"] == []
    assert list(fam["rooms"]["booked"]) == ["22"]
    # The third night is still free for that room.
    slots = list(fam["rooms"]["partially_available"].values())
    assert [s["date_from"] for s in slots] == [(d + timedelta(days=2)).isoformat()]
    assert body["hotel_ari"]["total_available_rooms"] == 9 - 1  # 9 BA rooms, 1 booked


async def test_date_wise_breakdown_gives_one_object_per_night(http):
    d = first_weekday(NEXT_YEAR, 10, 0)
    _, body = await ari(
        http,
        ari_xml(1, d, d + timedelta(days=3), extra="<date_wise_breakdown>1</date_wise_breakdown>"),
    )
    nights = body["hotel_aris"]
    assert [n["date_from"] for n in nights] == [
        (d + timedelta(days=i)).isoformat() for i in range(3)
    ]
    assert set(by_type({"hotel_ari": nights[0]})[11]["rooms"]["available"]["1"]) == {
        "id_room",
        "room_num",
    }


async def test_unknown_hotel_answers_only_the_header(http):
    d = first_weekday(NEXT_YEAR, 10, 0)
    status, body = await ari(http, ari_xml(77, d, d + timedelta(days=1)))
    assert status == 200
    assert set(body["hotel_ari"]) == {"id_hotel", "date_from", "date_to", "currency"}


async def test_validation_errors(http):
    d = first_weekday(NEXT_YEAR, 10, 0)
    cases = [
        ("", 85),
        ('{"hotel_ari": {"id_hotel": 1}}', 85),
        ("<qloapps><other/></qloapps>", 85),
        (ari_xml(1, d, d).replace("<id_hotel>1</id_hotel>", ""), 41),
        (ari_xml(1, d, d), 85),
        (ari_xml(1, d, d + timedelta(days=1), occupancies=((0, 0),)), 85),
    ]
    for body, code in cases:
        status, out = await ari(http, body)
        assert status == 400 and out["errors"][0]["code"] == code, body


async def test_get_is_405_code_23_but_schema_is_allowed(http):
    async with http.get("api/hotel_ari", params=J) as r:
        assert r.status == 405 and (await r.json())["errors"][0]["code"] == 23
    async with http.get("api/hotel_ari", params={"schema": "blank"}) as r:
        assert r.status == 200 and "<id_hotel>" in await r.text()


async def test_xml_output_uses_room_number(http):
    d = first_weekday(NEXT_YEAR, 10, 0)
    async with http.post("api/hotel_ari", data=ari_xml(1, d, d + timedelta(days=1))) as r:
        text = await r.text()
    assert "<room_number><![CDATA[101]]></room_number>" in text and "<hotel_ari>" in text
