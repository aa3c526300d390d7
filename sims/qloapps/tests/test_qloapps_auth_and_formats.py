"""Authentication (docs/external-apis/qloapps.md#authentication), output formats (docs/external-apis/qloapps.md#formats) and error envelopes (docs/external-apis/qloapps.md#errors)."""

from __future__ import annotations

import aiohttp
from posada_sim_qloapps import DEV_API_KEY, HOTELS_ONLY_KEY, INACTIVE_KEY, READONLY_KEY
from posada_sim_qloapps.testing import basic_auth_header


async def test_no_key_is_401_plain_text_with_basic_challenge(sim):
    async with (
        aiohttp.ClientSession() as s,
        s.get(sim.base_url + "/api/hotels?output_format=JSON") as r,
    ):
        assert r.status == 401
        assert r.headers["WWW-Authenticate"].startswith('Basic realm="')
        assert await r.text() == "401 Unauthorized"


async def test_key_as_basic_username_or_ws_key_query_param(sim):
    async with aiohttp.ClientSession() as s:
        async with s.get(
            sim.base_url + "/api/hotels",
            params={"output_format": "JSON"},
            headers=basic_auth_header(DEV_API_KEY),
        ) as r:
            assert r.status == 200
            assert await r.json() == {"hotels": [{"id": 1}, {"id": 2}]}
        async with s.get(
            sim.base_url + "/api/hotels", params={"output_format": "JSON", "ws_key": DEV_API_KEY}
        ) as r:
            assert r.status == 200


async def test_bad_key_format_unknown_and_inactive_keys(sim):
    async with aiohttp.ClientSession() as s:
        async with s.get(
            sim.base_url + "/api/hotels?output_format=JSON", headers=basic_auth_header("short")
        ) as r:
            assert r.status == 401
            assert [e["code"] for e in (await r.json())["errors"]] == [18]
        for key in ("X" * 32, INACTIVE_KEY):
            async with s.get(
                sim.base_url + "/api/hotels?output_format=JSON", headers=basic_auth_header(key)
            ) as r:
                assert r.status == 401
                assert [e["code"] for e in (await r.json())["errors"]] == [20, 21]


async def test_per_key_method_and_resource_permissions(sim):
    async with aiohttp.ClientSession() as s:
        async with s.post(
            sim.base_url + "/api/customers?output_format=JSON",
            data="<qloapps/>",
            headers=basic_auth_header(READONLY_KEY),
        ) as r:
            assert r.status == 405
            assert (await r.json())["errors"][0]["code"] == 25
        async with s.get(
            sim.base_url + "/api/hotels?output_format=JSON",
            headers=basic_auth_header(HOTELS_ONLY_KEY),
        ) as r:
            assert r.status == 200
        async with s.get(
            sim.base_url + "/api/room_types?output_format=JSON",
            headers=basic_auth_header(HOTELS_ONLY_KEY),
        ) as r:
            assert r.status == 401
            assert (await r.json())["errors"][0]["code"] == 26
        async with s.get(
            sim.base_url + "/api/?output_format=JSON", headers=basic_auth_header(HOTELS_ONLY_KEY)
        ) as r:
            assert await r.json() == ["hotels"]


async def test_index_lists_the_resources_the_adapter_needs(http):
    async with http.get("api/", params={"output_format": "JSON"}) as r:
        names = await r.json()
    assert isinstance(names, list)
    for needed in (
        "hotels",
        "room_types",
        "hotel_room_types",
        "hotel_ari",
        "bookings",
        "orders",
        "order_histories",
        "customers",
        "room_bookings",
    ):
        assert needed in names


async def test_unknown_resource_is_400_code_27_with_did_you_mean(http):
    async with http.get("api/hotel_booking", params={"output_format": "JSON"}) as r:
        assert r.status == 400
        err = (await r.json())["errors"][0]
        assert err["code"] == 27 and "Did you mean" in err["message"]


async def test_json_only_when_format_is_exactly_upper_case_json(http):
    async with http.get("api/hotels/1", params={"output_format": "json"}) as r:
        assert r.headers["Content-Type"].startswith("text/xml")
        text = await r.text()
        assert "<qloapps" in text and "<![CDATA[" in text
    async with http.get("api/hotels/1", params={"io_format": "JSON"}) as r:
        assert r.headers["Content-Type"].startswith("application/json")
    async with http.get("api/hotels/1", headers={"Output-Format": "JSON"}) as r:
        assert (await r.json())["hotel"]["id"] == 1
    # Io-Format header wins over the query parameter.
    async with http.get(
        "api/hotels/1", headers={"Io-Format": "XML"}, params={"output_format": "JSON"}
    ) as r:
        assert r.headers["Content-Type"].startswith("text/xml")


async def test_xml_errors_use_the_qloapps_root(http):
    async with http.get("api/hotels", params={"filter[nope]": "1"}) as r:
        assert r.status == 400
        text = await r.text()
        assert "<qloapps" in text and "<errors>" in text and "<code><![CDATA[32]]></code>" in text


async def test_webservice_headers_and_local_content_sha1(http):
    async with http.get("api/hotels", params={"output_format": "JSON"}) as r:
        assert r.headers["PSWS-Version"] == "1.6.1.23"
        assert r.headers["X-Powered-By"] == "PrestaShop Webservice"
        sha = r.headers["Content-Sha1"]
    async with http.get(
        "api/hotels", params={"output_format": "JSON"}, headers={"Local-Content-Sha1": sha}
    ) as r:
        assert r.status == 304


async def test_unsupported_method_is_405_code_23(http):
    async with http.patch("api/hotels/1", params={"output_format": "JSON"}) as r:
        assert r.status == 405
        assert (await r.json())["errors"][0]["code"] == 23


async def test_disabled_webservice_is_503_code_22(sim, http):
    sim.state.webservice_enabled = False
    async with http.get("api/hotels", params={"output_format": "JSON"}) as r:
        assert r.status == 503
        assert (await r.json())["errors"][0]["code"] == 22


async def test_empty_ws_key_is_code_17(sim):
    async with (
        aiohttp.ClientSession() as s,
        s.get(sim.api_url + "/hotels?output_format=JSON&ws_key=") as r,
    ):
        assert r.status == 401 and (await r.json())["errors"][0]["code"] == 17


async def test_head_and_ps_method_override(http):
    async with http.head("api/hotels/1", params={"output_format": "JSON"}) as r:
        assert r.status == 200 and await r.read() == b""
    async with http.head("api/hotels/42", params={"output_format": "JSON"}) as r:
        assert r.status == 404
    xml = (
        "<qloapps><customer><firstname>Eva</firstname><lastname>Sol</lastname><email>eva@example.com</email>"
        "<passwd>pw123456</passwd><phone>+34600000001</phone></customer></qloapps>"
    )
    async with http.post("api/customers", params={"output_format": "JSON"}, data=xml) as r:
        cid = (await r.json())["customer"]["id"]
    async with http.post(
        f"api/customers/{cid}", params={"output_format": "JSON", "ps_method": "DELETE"}
    ) as r:
        assert r.status == 200
    async with http.get(f"api/customers/{cid}", params={"output_format": "JSON"}) as r:
        assert r.status == 404


async def test_every_xml_answer_is_well_formed(http):
    import xml.etree.ElementTree as ET
    from datetime import date, timedelta

    from posada_sim_qloapps.testing import ari_xml, booking_body

    d = date.today() + timedelta(days=30)
    async with http.post("api/bookings", json=booking_body(12, d, d + timedelta(days=1))) as r:
        assert r.status == 200
        ET.fromstring(await r.text())
    paths = [
        "api/",
        "api/hotels",
        "api/hotels/1",
        "api/room_types/12",
        "api/hotel_room_types?display=full",
        "api/bookings",
        "api/bookings/1",
        "api/orders/1",
        "api/customers?display=full",
        "api/room_bookings?display=full",
        "api/hotels?schema=synopsis",
        "api/bookings?schema=blank",
        "api/feature_prices?display=full&limit=3",
    ]
    for path in paths:
        async with http.get(path) as r:
            assert r.status == 200, path
            root = ET.fromstring(await r.text())
            assert root.tag == "qloapps", path
    for extra in (
        "",
        "<get_booked_rooms>1</get_booked_rooms><get_unavailable_rooms>1</get_unavailable_rooms>"
        "<get_partial_available_rooms>1</get_partial_available_rooms><get_available_rooms>1</get_available_rooms>",
        "<date_wise_breakdown>1</date_wise_breakdown>",
    ):
        async with http.post(
            "api/hotel_ari", data=ari_xml(1, d, d + timedelta(days=2), extra=extra)
        ) as r:
            assert r.status == 200
            ET.fromstring(await r.text())
