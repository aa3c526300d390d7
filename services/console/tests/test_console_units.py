"""Small pure pieces of the console: language choice, catalogues, ordering, formatting."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.type.v1 import money_pb2
from posada_console import i18n, present


def test_both_languages_have_every_key() -> None:
    assert set(i18n.STRINGS["es"]) == set(i18n.STRINGS["en"])


def test_language_is_the_cookie_else_the_best_supported_browser_language() -> None:
    assert i18n.pick_language("en", "es-ES") == "en"
    assert i18n.pick_language(None, "fr-FR,en;q=0.8,es;q=0.5") == "en"
    assert i18n.pick_language(None, "de-DE") == "es"
    assert i18n.pick_language("xx", None) == "es"
    assert i18n.pick_language(None, "en;q=bogus,es") == "es"


def _ts(minutes_ago: int) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago))
    return ts


def test_inbox_order_is_handed_off_then_longest_waiting_then_recent() -> None:
    handed = conv_pb2.CONVERSATION_STATE_HANDED_OFF
    active = conv_pb2.CONVERSATION_STATE_ACTIVE
    rows = [
        conv_pb2.Conversation(conversation_id="recent", state=active, last_message_at=_ts(1)),
        conv_pb2.Conversation(
            conversation_id="waiting", state=active, last_message_at=_ts(2), waiting_since=_ts(2)
        ),
        conv_pb2.Conversation(
            conversation_id="handed-long",
            state=handed,
            last_message_at=_ts(3),
            waiting_since=_ts(30),
        ),
        conv_pb2.Conversation(
            conversation_id="handed-short",
            state=handed,
            last_message_at=_ts(1),
            waiting_since=_ts(5),
        ),
        conv_pb2.Conversation(conversation_id="old", state=active, last_message_at=_ts(90)),
    ]
    order = [c.conversation_id for c in present.attention_order(rows)]
    assert order == ["handed-long", "handed-short", "waiting", "recent", "old"]


def test_money_in_the_currency_minor_unit_and_the_pages_language() -> None:
    assert present.money(money_pb2.Money(currency_code="EUR", amount_minor=123456), "en") == (
        "1,234.56 EUR"
    )
    assert present.money(money_pb2.Money(currency_code="EUR", amount_minor=123456), "es") == (
        "1\u2009234,56 EUR"
    )


def test_waiting_time_reads_like_a_person_would_say_it() -> None:
    t = i18n.translator("en")
    assert present.age(_ts(0), t) == "now"
    assert present.age(_ts(12), t) == "12 min"
    assert present.age(_ts(125), t) == "2 h"
    assert present.age(timestamp_pb2.Timestamp(), t) == ""
