"""The generic engine (docs/external-apis/qloapps.md#generic-resources): list/detail shapes, display, filters, sort, limit, language, writes."""

from __future__ import annotations

J = {"output_format": "JSON"}


async def get_json(http, path, **params):
    async with http.get(path, params={**J, **params}) as r:
        return r.status, (await r.json() if r.content_length != 0 else None)


async def test_list_without_display_gives_ids_only_as_numbers(http):
    status, body = await get_json(http, "api/room_types")
    assert status == 200
    assert body == {"room_types": [{"id": i} for i in range(11, 21)]}


async def test_detail_is_singular_with_string_scalars_and_associations(http):
    _, body = await get_json(http, "api/room_types/14", language="1")
    rt = body["room_type"]
    assert rt["id"] == 14 and rt["price"] == "240.000000" and rt["id_hotel"] == "1"
    assert rt["name"] == "Junior Suite"
    assert rt["associations"]["hotel_rooms"] == [{"id": "11"}]


async def test_detail_with_display_uses_plural_wrapper(http):
    _, body = await get_json(http, "api/hotels/2", display="[id,hotel_name,city]", language="1")
    assert body == {"hotels": [{"id": 2, "hotel_name": "Posada San Telmo", "city": "Buenos Aires"}]}


async def test_i18n_fields_are_language_arrays_unless_one_language_is_selected(http):
    _, body = await get_json(http, "api/room_types/12", display="[id,name]")
    assert body["room_types"][0]["name"] == [
        {"id": "1", "value": "Double Room"},
        {"id": "2", "value": "Habitación Doble"},
        {"id": "3", "value": "Quarto Duplo"},
    ]
    _, body = await get_json(http, "api/room_types/12", display="[id,name]", language="2")
    assert body["room_types"][0]["name"] == "Habitación Doble"


async def test_portuguese_is_shop_language_3_with_its_own_texts(http):
    _, body = await get_json(
        http, "api/languages", display="[id,iso_code,language_code,active]", sort="[id_ASC]"
    )
    assert body["languages"] == [
        {"id": 1, "iso_code": "en", "language_code": "en-us", "active": "1"},
        {"id": 2, "iso_code": "es", "language_code": "es-es", "active": "1"},
        {"id": 3, "iso_code": "pt", "language_code": "pt-br", "active": "1"},
    ]
    _, body = await get_json(http, "api/hotels/1", language="3")
    hotel = body["hotel"]
    assert "Animais de estimação" in hotel["policies"]
    assert "Cancelamento gratuito até 7 dias antes da chegada" in hotel["policies"]
    assert hotel["short_description"] == "Hotel boutique no bairro literário de Madri."
    _, body = await get_json(http, "api/hotels/2", language="3")
    assert "exceto cães de assistência" in body["hotel"]["policies"]
    assert "aulas de tango às quintas-feiras" in body["hotel"]["description"]
    _, body = await get_json(
        http, "api/room_types", display="[id,name,description_short]", language="3"
    )
    names = {r["id"]: r["name"] for r in body["room_types"]}
    assert (
        names[14] == "Suíte Júnior" and names[19] == "Suíte Tango" and names[20] == "Quarto Família"
    )
    # Every room type has its own Portuguese description (none left in English or empty).
    _, en = await get_json(http, "api/room_types", display="[id,description_short]", language="1")
    english = {r["id"]: r["description_short"] for r in en["room_types"]}
    for r in body["room_types"]:
        assert r["description_short"] and r["description_short"] != english[r["id"]]
    _, body = await get_json(http, "api/hotel_refund_rules/3", language="3")
    assert body["hotel_refund_rule"]["name"] == "Cancelamento gratuito (72 h)"


async def test_unknown_id_is_404_with_empty_body(http):
    async with http.get("api/hotels/99", params=J) as r:
        assert r.status == 404
        assert await r.read() == b""


async def test_empty_list_is_a_bare_array(http):
    status, body = await get_json(http, "api/orders")
    assert status == 200 and body == []


async def test_filters_equality_or_range_like_comparison_and_not(http):
    _, body = await get_json(
        http, "api/hotel_room_types", **{"filter[id_hotel]": "2", "display": "[id,id_product]"}
    )
    assert [x["id_product"] for x in body["hotel_room_types"]] == ["16", "17", "18", "19", "20"]
    _, body = await get_json(http, "api/room_types", **{"filter[id]": "[11|13|20]"})
    assert [x["id"] for x in body["room_types"]] == [11, 13, 20]
    _, body = await get_json(http, "api/room_types", **{"filter[price]": "[100,200]"})
    assert [x["id"] for x in body["room_types"]] == [12, 13, 15]
    _, body = await get_json(http, "api/hotel_rooms", **{"filter[room_num]": "[30]%"})
    assert [x["id"] for x in body["rooms"]] == [11, 12, 13, 21, 22]
    _, body = await get_json(
        http, "api/hotel_room_types", **{"filter[max_guests]": ">[3]", "display": "[id_product]"}
    )
    assert {x["id_product"] for x in body["hotel_room_types"]} == {"14", "15", "19", "20"}
    _, body = await get_json(http, "api/hotel_rooms", **{"filter[id_status]": "![1]"})
    assert body == {"rooms": [{"id": 8}]}
    # e-mail lookup is case-insensitive (MySQL *_ci collation)
    _, body = await get_json(
        http,
        "api/customers",
        **{
            "filter[email]": "[ANA.GARCIA@example.com]",
            "display": "[id,firstname,lastname,email,phone]",
        },
    )
    assert body == {
        "customers": [
            {
                "id": 1,
                "firstname": "Ana",
                "lastname": "García",
                "email": "ana.garcia@example.com",
                "phone": "+34600111222",
            }
        ]
    }


async def test_filter_errors_unknown_virtual_and_empty(http):
    status, body = await get_json(http, "api/customers", **{"filter[mail]": "[x]"})
    assert (
        status == 400
        and body["errors"][0]["code"] == 32
        and "email" in body["errors"][0]["message"]
    )
    status, body = await get_json(http, "api/room_types", **{"filter[id_hotel]": "1"})
    assert status == 400 and body["errors"][0]["code"] == 34
    status, body = await get_json(http, "api/hotels", **{"filter[city]": "[Madrid]"})
    assert status == 400 and body["errors"][0]["code"] == 34
    status, body = await get_json(http, "api/hotels", **{"filter[email]": ""})
    assert status == 400 and body["errors"][0]["code"] == 33
    # date_add is only filterable with date=1
    status, _ = await get_json(http, "api/hotels", **{"filter[date_add]": ">[2000-01-01]"})
    assert status == 400
    status, body = await get_json(
        http, "api/hotels", **{"filter[date_add]": ">[2000-01-01]", "date": "1"}
    )
    assert status == 200 and len(body["hotels"]) == 2


async def test_display_sort_and_limit(http):
    _, body = await get_json(
        http, "api/room_types", display="[id,price]", sort="[price_DESC]", limit="2"
    )
    assert body == {
        "room_types": [{"id": 19, "price": "210000.000000"}, {"id": 20, "price": "150000.000000"}]
    }
    _, body = await get_json(http, "api/room_types", sort="id_DESC", limit="1,2")
    assert body == {"room_types": [{"id": 19}, {"id": 18}]}
    for params, code in (
        ({"display": "[id,nope]"}, 35),
        ({"display": "id,name"}, 36),
        ({"sort": "price"}, 37),
        ({"sort": "[id_hotel_ASC]"}, 38),
        ({"limit": "1,2,3"}, 39),
        ({"schema": "weird"}, 28),
        ({"language": "7"}, 80),
    ):
        status, body = await get_json(http, "api/room_types", **params)
        assert status == 400 and body["errors"][0]["code"] == code, params


async def test_display_full_includes_associations(http):
    _, body = await get_json(
        http, "api/hotels", display="full", language="1", **{"filter[id]": "1"}
    )
    h = body["hotels"][0]
    assert h["check_in"] == "15:00" and h["latitude"] == "40.414320"
    assert [x["id"] for x in h["associations"]["room_types"]] == ["11", "12", "13", "14", "15"]
    assert h["associations"]["hotel_features"] and h["associations"]["hotel_refund_rules"]


async def test_schema_blank_returns_an_empty_template(http):
    _, body = await get_json(http, "api/customers", schema="blank")
    assert body["customer"]["email"] == "" and body["customer"]["id"] == ""


CUSTOMER_XML = (
    "<qloapps><customer><firstname>Marta</firstname><lastname>Ruiz</lastname>"
    "<email>marta@example.com</email><passwd>secret123</passwd><phone>+34622000111</phone>"
    "<note>VIP</note><company>ACME</company></customer></qloapps>"
)


async def test_generic_post_is_xml_only_and_answers_201(http):
    async with http.post("api/customers", params=J, data='{"customer": {"firstname": "X"}}') as r:
        assert r.status == 500 and (await r.json())["errors"][0]["code"] == 127
    async with http.post("api/customers", params=J, data=CUSTOMER_XML) as r:
        assert r.status == 201
        c = (await r.json())["customer"]
    assert c["firstname"] == "Marta" and c["company"] == "ACME" and c["passwd"] != "secret123"
    async with http.post(
        "api/customers", params=J, data=CUSTOMER_XML.replace("<customer>", "<customer><id>5</id>")
    ) as r:
        assert r.status == 400 and (await r.json())["errors"][0]["code"] == 91
    async with http.post(
        "api/customers", params=J, data=CUSTOMER_XML.replace("<lastname>Ruiz</lastname>", "")
    ) as r:
        assert r.status == 400 and (await r.json())["errors"][0]["code"] == 41


async def test_generic_put_replaces_everything_and_needs_id(http):
    async with http.post("api/customers", params=J, data=CUSTOMER_XML) as r:
        cid = (await r.json())["customer"]["id"]
    # PUT without <id> → 90; with a read-only field → 93; unknown id → 404 code 92.
    put = "<qloapps><customer>{id}<firstname>Marta</firstname><lastname>Ruiz Gil</lastname><email>marta@example.com</email><phone>+34622000111</phone>{extra}</customer></qloapps>"
    async with http.put(f"api/customers/{cid}", params=J, data=put.format(id="", extra="")) as r:
        assert r.status == 400 and (await r.json())["errors"][0]["code"] == 90
    async with http.put(
        f"api/customers/{cid}",
        params=J,
        data=put.format(id=f"<id>{cid}</id>", extra="<date_add>2020-01-01 00:00:00</date_add>"),
    ) as r:
        assert r.status == 400 and (await r.json())["errors"][0]["code"] == 93
    async with http.put(
        "api/customers/999", params=J, data=put.format(id="<id>999</id>", extra="")
    ) as r:
        assert r.status == 404 and (await r.json())["errors"][0]["code"] == 92
    async with http.put(
        f"api/customers/{cid}", params=J, data=put.format(id=f"<id>{cid}</id>", extra="")
    ) as r:
        assert r.status == 200
        c = (await r.json())["customer"]
    assert c["lastname"] == "Ruiz Gil"
    # Fields absent from the PUT body were emptied (full replacement).
    assert c["note"] == "" and c["company"] == ""


async def test_generic_delete_answers_200_with_empty_body(http):
    async with http.post("api/customers", params=J, data=CUSTOMER_XML) as r:
        cid = (await r.json())["customer"]["id"]
    async with http.delete(f"api/customers/{cid}", params=J) as r:
        assert r.status == 200 and await r.read() == b""
    async with http.delete(f"api/customers/{cid}", params=J) as r:
        assert r.status == 404 and (await r.json())["errors"][0]["code"] == 87


async def test_method_forbidden_for_a_resource_is_405_code_101(http):
    async with http.delete("api/order_states/1", params=J) as r:
        assert r.status == 405 and (await r.json())["errors"][0]["code"] == 101


async def test_xml_list_and_detail_shapes(http):
    async with http.get("api/hotels") as r:
        text = await r.text()
    assert '<hotel id="1" xlink:href="' in text and "/api/hotels/1" in text
    async with http.get("api/hotels/1") as r:
        text = await r.text()
    assert (
        '<hotel_name><language id="1"' in text and 'nodeType="room_type" api="room_types"' in text
    )


async def test_adapter_recipes_of_doc_section_10(http):
    """The calls pms makes (docs/external-apis/qloapps.md) all answer as documented."""
    _, body = await get_json(
        http,
        "api/room_types",
        display="[id,name,description_short,price,active]",
        language="1",
        **{"filter[active]": "1"},
    )
    assert len(body["room_types"]) == 10 and body["room_types"][0]["name"] == "Single Room"
    _, body = await get_json(
        http, "api/hotel_room_types", display="full", **{"filter[id_hotel]": "1"}
    )
    caps = {
        x["id_product"]: (x["max_adults"], x["max_children"], x["max_guests"])
        for x in body["hotel_room_types"]
    }
    assert caps == {
        "11": ("1", "0", "1"),
        "12": ("2", "1", "3"),
        "13": ("2", "0", "2"),
        "14": ("3", "2", "4"),
        "15": ("4", "3", "5"),
    }
    _, body = await get_json(
        http,
        "api/configurations",
        display="[id,name,value]",
        **{"filter[name]": "[PS_CURRENCY_DEFAULT|PS_LANG_DEFAULT]"},
    )
    assert {x["name"]: x["value"] for x in body["configurations"]} == {
        "PS_CURRENCY_DEFAULT": "1",
        "PS_LANG_DEFAULT": "1",
    }
    _, body = await get_json(http, "api/order_states", display="[id,name,paid]", language="1")
    assert {x["id"]: x["name"] for x in body["order_states"]}[4] == "Canceled"
    _, body = await get_json(http, "api/currencies", display="[id,iso_code,conversion_rate]")
    assert [x["iso_code"] for x in body["currencies"]] == ["EUR", "ARS", "USD"]
    _, body = await get_json(http, "api/countries/44", language="1")
    assert body["country"]["iso_code"] == "AR"
    _, body = await get_json(
        http,
        "api/hotel_features",
        display="[id,name,parent_feature_id]",
        language="1",
        **{"filter[id]": "[2|8]"},
    )
    assert [x["name"] for x in body["hotel_features"]] == ["Wi-Fi", "Rooftop terrace"]
    _, body = await get_json(http, "api/hotel_refund_rules/3", language="2")
    assert body["hotel_refund_rule"]["days"] == "3"
