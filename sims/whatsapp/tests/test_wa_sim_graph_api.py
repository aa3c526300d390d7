"""Graph API side: auth, validation of WhatsApp's limits and Meta-shaped errors."""

from __future__ import annotations

import pytest

GUEST = "+34600111222"


def msg(mtype: str, content, **extra) -> dict:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": GUEST,
        "type": mtype,
        mtype: content,
        **extra,
    }


def buttons(*titles: str, ids: list[str] | None = None) -> dict:
    ids = ids or [f"b{i}" for i in range(len(titles))]
    return {
        "type": "button",
        "body": {"text": "Shall I book it?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": i, "title": t}}
                for i, t in zip(ids, titles, strict=True)
            ]
        },
    }


def listing(rows_per_section: list[int], **over) -> dict:
    sections = []
    n = 0
    for s, count in enumerate(rows_per_section):
        rows = []
        for _ in range(count):
            rows.append({"id": f"r{n}", "title": f"Row {n}", "description": "60 min"})
            n += 1
        sections.append({"title": f"Section {s}", "rows": rows})
    it = {
        "type": "list",
        "body": {"text": "Pick a time"},
        "action": {"button": "Show times", "sections": sections},
    }
    it.update(over)
    return it


def assert_graph_error(status: int, body: dict, code: int, http: int = 400) -> dict:
    assert status == http, body
    err = body["error"]
    assert err["code"] == code
    assert err["type"] == "OAuthException"
    assert err["fbtrace_id"]
    if code != 190:
        assert err["message"].startswith(f"(#{code}) ")
        assert err["error_data"]["messaging_product"] == "whatsapp"
        assert err["error_data"]["details"]
    return err


async def test_send_text_answers_wamid_and_contact(graph):
    status, body = await graph.text(GUEST, "Late checkout until 14:00 is confirmed.")
    assert status == 200
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": GUEST, "wa_id": "34600111222"}]
    assert body["messages"][0]["id"].startswith("wamid.")


async def test_any_graph_version_is_accepted(graph):
    graph.version = "v25.0"
    status, _ = await graph.text(GUEST, "hi")
    assert status == 200


async def test_missing_or_wrong_token_is_190(graph):
    status, body = await graph.send(msg("text", {"body": "x"}), headers={})
    assert_graph_error(status, body, 190, 401)
    status, body = await graph.send(
        msg("text", {"body": "x"}), headers={"Authorization": "Bearer nope"}
    )
    err = assert_graph_error(status, body, 190, 401)
    assert "error_subcode" not in err


async def test_unknown_phone_number_id_is_100_subcode_33(graph):
    status, body = await graph.send(msg("text", {"body": "x"}), pnid="999")
    assert assert_graph_error(status, body, 100)["error_subcode"] == 33


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"to": GUEST, "type": "text", "text": {"body": "x"}}, 100),  # no messaging_product
        ({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}, 100),  # no to
        (
            {"messaging_product": "whatsapp", "to": "hello", "type": "text", "text": {"body": "x"}},
            100,
        ),
        ({"messaging_product": "whatsapp", "to": GUEST, "type": "poll", "poll": {}}, 100),
        ({"messaging_product": "whatsapp", "to": GUEST, "type": "text", "text": {}}, 131008),
        ({"messaging_product": "whatsapp", "to": GUEST, "type": "text"}, 131008),
    ],
)
async def test_malformed_sends_are_rejected(graph, body, code):
    status, resp = await graph.send(body)
    assert_graph_error(status, resp, code)


async def test_type_defaults_to_text_and_missing_plus_is_a_warning(graph):
    status, _ = await graph.send(
        {"messaging_product": "whatsapp", "to": "34600111222", "text": {"body": "x"}}
    )
    assert status == 200
    _, outbox = await graph.control("GET", "outbox")
    assert outbox[-1]["type"] == "text"
    assert any("+" in w for w in outbox[-1]["warnings"])


async def test_text_body_limit_4096(graph):
    assert (await graph.text(GUEST, "x" * 4096))[0] == 200
    assert_graph_error(*(await graph.text(GUEST, "x" * 4097)), 131009)


@pytest.mark.parametrize(
    ("interactive", "ok"),
    [
        (buttons("Yes", "No", "Maybe"), True),
        (buttons("Yes", "No", "Maybe", "Later"), False),  # > 3 buttons
        (buttons("x" * 20), True),
        (buttons("x" * 21), False),  # title > 20
        (buttons(""), False),
        (buttons("Yes", "Yes"), False),  # duplicate titles
        (buttons("Yes", "No", ids=["a", "a"]), False),  # duplicate ids
        (buttons("Yes", ids=["i" * 257]), False),
        ({**buttons("Yes"), "footer": {"text": "f" * 61}}, False),
        ({**buttons("Yes"), "header": {"type": "text", "text": "Late checkout"}}, True),
        ({**buttons("Yes"), "body": {"text": "b" * 1025}}, False),
        ({"type": "button", "action": buttons("Yes")["action"]}, False),  # no body
        (listing([2, 1]), True),
        (listing([10]), True),
        (listing([6, 5]), False),  # 11 rows across sections
        (listing([1] * 11), False),  # 11 sections
        (
            listing(
                [1], action={"button": "x" * 21, "sections": listing([1])["action"]["sections"]}
            ),
            False,
        ),
        (
            listing([1], header={"type": "image", "image": {"link": "https://x/y.jpg"}}),
            False,
        ),  # text header only
        (listing([1], header={"type": "text", "text": "Spa slots tomorrow"}), True),
    ],
)
async def test_interactive_limits(graph, interactive, ok):
    status, body = await graph.send(msg("interactive", interactive))
    if ok:
        assert status == 200, body
    else:
        assert status == 400, body
        assert body["error"]["code"] in (131008, 131009), body


async def test_list_row_title_and_description_limits(graph):
    it = listing([1])
    it["action"]["sections"][0]["rows"][0]["title"] = "t" * 25
    assert_graph_error(*(await graph.send(msg("interactive", it))), 131009)
    it = listing([1])
    it["action"]["sections"][0]["rows"][0]["description"] = "d" * 73
    assert_graph_error(*(await graph.send(msg("interactive", it))), 131009)
    it = listing([2])
    it["action"]["sections"][0]["rows"][1]["id"] = "r0"
    assert_graph_error(*(await graph.send(msg("interactive", it))), 131009)


async def test_media_messages_need_exactly_one_known_id_or_link(graph):
    assert (await graph.send(msg("audio", {"link": "https://hotel.example/a.ogg"})))[0] == 200
    assert_graph_error(*(await graph.send(msg("audio", {"id": "123456"}))), 131009)
    assert_graph_error(*(await graph.send(msg("audio", {}))), 131008)
    assert_graph_error(
        *(await graph.send(msg("image", {"id": "1", "link": "https://x/y.jpg"}))), 131008
    )
    assert_graph_error(
        *(await graph.send(msg("image", {"link": "https://x/y.jpg", "caption": "c" * 1025}))),
        131009,
    )


async def test_location_reaction_and_template_validation(graph):
    assert (
        await graph.send(msg("location", {"latitude": 40.4, "longitude": -3.7, "name": "Sol"}))
    )[0] == 200
    assert_graph_error(*(await graph.send(msg("location", {"latitude": 40.4}))), 131008)
    assert_graph_error(
        *(await graph.send(msg("location", {"latitude": 91, "longitude": 0}))), 131009
    )
    assert_graph_error(*(await graph.send(msg("reaction", {"emoji": "👍"}))), 131008)
    tpl = {
        "name": "stay_update",
        "language": {"code": "es"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Lena"}]}],
    }
    status, body = await graph.send(msg("template", tpl))
    assert status == 200 and body["messages"][0]["message_status"] == "accepted"
    bad = {
        **tpl,
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "line\nbreak"}]}],
    }
    assert_graph_error(*(await graph.send(msg("template", bad))), 132018)
    bad = {
        **tpl,
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "a     b"}]}],
    }
    assert_graph_error(*(await graph.send(msg("template", bad))), 132018)
    assert_graph_error(*(await graph.send(msg("template", {"name": "x"}))), 131008)


async def test_registered_templates_are_enforced(graph):
    await graph.control(
        "POST",
        "templates",
        json={"name": "stay_update", "language": "es", "body_params": ["guest_name"]},
    )
    ok = {
        "name": "stay_update",
        "language": {"code": "es"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "parameter_name": "guest_name", "text": "Lena"}],
            }
        ],
    }
    assert (await graph.send(msg("template", ok)))[0] == 200
    assert_graph_error(
        *(await graph.send(msg("template", {**ok, "language": {"code": "en"}}))), 132001
    )
    assert_graph_error(*(await graph.send(msg("template", {**ok, "components": []}))), 132000)
    unnamed = {
        **ok,
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Lena"}]}],
    }
    assert_graph_error(*(await graph.send(msg("template", unnamed))), 100)


async def test_mark_as_read_with_typing_indicator(graph, receiver):
    _, res = await graph.control(
        "POST", "inbound", json={"from": "34600111222", "type": "text", "text": "hola"}
    )
    read = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": res["wamid"],
        "typing_indicator": {"type": "text"},
    }
    status, body = await graph.send(read)
    assert (status, body) == (200, {"success": True})
    _, outbox = await graph.control("GET", "outbox?endpoint=read")
    assert outbox[-1]["to"] == "34600111222"
    _, chat = await graph.control("GET", "chat/34600111222")
    assert [e["dir"] for e in chat["events"]][-2:] == ["read", "typing"]
    status, body = await graph.send({**read, "typing_indicator": {"type": "voice"}})
    assert_graph_error(status, body, 131009)
    status, body = await graph.send({"messaging_product": "whatsapp", "status": "read"})
    assert_graph_error(status, body, 100)


async def test_send_to_business_scoped_user_id(graph):
    _, res = await graph.control(
        "POST",
        "inbound",
        json={"from": "4915112345678", "type": "text", "text": "hi", "hide_phone": True},
    )
    bsuid = res["payload"]["entry"][0]["changes"][0]["value"]["contacts"][0]["user_id"]
    status, body = await graph.send(
        {
            "messaging_product": "whatsapp",
            "recipient": bsuid,
            "type": "text",
            "text": {"body": "hello"},
        }
    )
    assert status == 200
    assert body["contacts"][0] == {"input": bsuid, "user_id": bsuid}
    _, outbox = await graph.control("GET", f"outbox?to={bsuid}")
    assert len(outbox) == 1


async def test_unknown_graph_path_is_a_graph_error(graph, http, sim):
    async with http.post(
        f"{sim.base_url}/v21.0/{'1098765432101'}/nothing", headers=graph.headers
    ) as resp:
        body = await resp.json()
    assert resp.status == 400 and body["error"]["code"] == 100
    async with http.get(
        f"{sim.base_url}/v21.0/1098765432101?fields=throughput", headers=graph.headers
    ) as resp:
        body = await resp.json()
    assert body["throughput"]["level"] == "STANDARD"
