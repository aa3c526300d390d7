"""Runs one dialogue-eval scenario (eval/scenarios/*/*.yaml) against a running ConversationService.

A scenario is a scripted guest: what they say, what each reply must (and must never) contain,
and the outcome checked where it lives — the booking in the QloApps stand-in (through the
real pms: right hotel, guests, nights, room category), handoffs and staff tasks in Postgres,
quoted prices against the pms availability for those dates. Task success = every check held.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import grpc
import yaml
from conv_chat import Guest, _d
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.pms.v1 import pms_service_pb2 as pms_pb2
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from posada_common.testing import trusted_channel
from posada_conversation.i18n import format_money

SCENARIOS = Path(__file__).resolve().parents[1] / "eval" / "scenarios"
MONTHS = {
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "en": "January February March April May June July August September October November December",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
}
CATEGORY = {
    "single": pms_pb2.ROOM_CATEGORY_SINGLE,
    "double": pms_pb2.ROOM_CATEGORY_DOUBLE,
    "twin": pms_pb2.ROOM_CATEGORY_TWIN,
    "suite": pms_pb2.ROOM_CATEGORY_SUITE,
    "family": pms_pb2.ROOM_CATEGORY_FAMILY,
}
PHONES = {"es": "34611000", "en": "44770090", "pt": "55119990"}


def load(folder: str) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted((SCENARIOS / folder).glob("*.yaml"))]


def fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c)
    )


def say_date(day: dt.date, lang: str) -> str:
    month = MONTHS[lang].split()[day.month - 1]
    return f"{month} {day.day}" if lang == "en" else f"{day.day} de {month}"


@dataclass
class Result:
    id: str
    folder: str
    language: str
    success: bool = False
    turns: int = 0
    failures: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)


async def run(
    scenario: dict[str, Any], folder: str, stub: Any, pms_address: str, db_url: str, n: int
) -> Result:
    lang = scenario["language"]
    res = Result(scenario["id"], folder, lang)
    today = dt.datetime.now(ZoneInfo("Europe/Madrid")).date()
    stay = scenario["stay"]
    if "weekday" in stay:  # "arrive Saturday": the next such day after today
        ci = today + dt.timedelta(days=(stay["weekday"] - today.weekday()) % 7 or 7)
    else:
        ci = today + dt.timedelta(days=stay["offset"])
    co = ci + dt.timedelta(days=stay["nights"])
    ci2 = ci + dt.timedelta(days=stay.get("offset2", 0))
    co2 = ci2 + dt.timedelta(days=stay["nights"])
    values = {
        "in": say_date(ci, lang),
        "out": say_date(co, lang),
        "in_day": str(ci.day),
        "out_day": str(co.day),
        "in2": say_date(ci2, lang),
        "out2": say_date(co2, lang),
        "out_plus1": say_date(co + dt.timedelta(days=1), lang),
    }
    guest = Guest(stub, phone=f"{PHONES[lang]}{n:04d}", name=scenario.get("display_name", ""))
    hotel = scenario["hotel_id"]
    outcome = scenario["outcome"]
    handed_off = False
    current = (ci, co)
    for turn in scenario["turns"]:
        text = turn["say"].format(**values)
        if "{in2}" in turn["say"]:
            current = (ci2, co2)
        started = time.perf_counter()
        try:
            response = await guest.say(text)
        except grpc.aio.AioRpcError as exc:
            res.failures.append(f"rpc {exc.code().name} on {text!r}")
            break
        res.latencies_ms.append((time.perf_counter() - started) * 1000)
        res.turns += 1
        reply = guest.text()
        res.transcript += [f"> {text}", *(f"< {line}" for line in reply.splitlines())]
        handed_off = handed_off or response.state == conv_pb2.CONVERSATION_STATE_HANDED_OFF
        folded = fold(reply)
        for group in turn.get("expect", []):
            if not any(fold(x) in folded for x in group):
                res.failures.append(f"turn {res.turns}: none of {group} in reply")
        for bad in [*scenario.get("forbid", []), *turn.get("forbid", [])]:
            # Codes and symbols ("ARS", "€") as written; words case- and accent-insensitive.
            literal = bad.isupper() or not any(ch.isalpha() for ch in bad)
            if (bad in reply) if literal else (fold(bad) in folded):
                res.failures.append(f"turn {res.turns}: forbidden {bad!r} in reply")
        if turn.get("check_prices"):
            want = outcome.get("booking", {})
            adults = want.get("adults", 2)
            children = want.get("children", 0)
            quoted = await _quotes(pms_address, hotel, *current, adults, children, lang)
            if not any(q in reply for q in quoted):
                res.failures.append(f"turn {res.turns}: no pms price of hotel {hotel} in reply")
    if "booking" in outcome:
        await _check_booking(res, guest, outcome["booking"], hotel, (ci, co, ci2, co2), pms_address)
    if outcome.get("handoff") and not handed_off:
        res.failures.append("expected a handoff")
    if outcome.get("task_contains"):
        conn = await asyncpg.connect(db_url)
        try:
            rows = await conn.fetch(
                "SELECT description, hotel_id FROM tasks WHERE conversation_id = $1",
                guest.conversation_id,
            )
        finally:
            await conn.close()
        if not any(outcome["task_contains"].lower() in r["description"].lower() for r in rows):
            res.failures.append(f"no staff task mentioning {outcome['task_contains']!r}")
        if any(r["hotel_id"] != hotel for r in rows):
            res.failures.append("a staff task was filed for another hotel")
    if outcome.get("no_booking") and re.search(r"\*[A-Z]{9}\*", "\n".join(res.transcript)):
        res.failures.append("a booking was made")
    res.success = not res.failures
    return res


async def _quotes(
    address: str, hotel: str, ci: dt.date, co: dt.date, adults: int, children: int, lang: str
) -> set[str]:
    async with trusted_channel(address) as ch:
        r = await pms_grpc.PmsServiceStub(ch).CheckAvailability(
            pms_pb2.CheckAvailabilityRequest(
                hotel_id=hotel,
                check_in=_d(ci),
                check_out=_d(co),
                adults=adults,
                children=children,
                language=lang,
            ),
            timeout=10,
        )
    return {
        format_money(o.total_tax_included.amount_minor, o.total_tax_included.currency_code, lang)
        for o in r.offers
        if o.rooms_left > 0
    }


async def _check_booking(
    res: Result,
    guest: Guest,
    want: dict[str, Any],
    hotel: str,
    dates: tuple[dt.date, dt.date, dt.date, dt.date],
    address: str,
) -> None:
    refs = re.findall(r"\*([A-Z]{9})\*", "\n".join(res.transcript))
    if not refs:
        res.failures.append("no booking reference given")
        return
    async with trusted_channel(address) as ch:
        stub = pms_grpc.PmsServiceStub(ch)
        found = await stub.FindBookings(
            pms_pb2.FindBookingsRequest(hotel_id=hotel, reference=refs[-1]), timeout=10
        )
    match = [b for b in found.bookings if b.reference == refs[-1]]
    if not match:
        res.failures.append(f"booking {refs[-1]} not found in hotel {hotel}")
        return
    b = match[0]
    ci, _co, ci2, _co2 = dates
    expected_in = ci2 if want.get("moved") else ci
    nights = want.get("nights", 2)
    got_in = dt.date(b.check_in.year, b.check_in.month, b.check_in.day)
    got_out = dt.date(b.check_out.year, b.check_out.month, b.check_out.day)
    if got_in != expected_in or (got_out - got_in).days != nights:
        res.failures.append(f"booked {got_in}→{got_out}, wanted {expected_in} for {nights} nights")
    if want.get("cancelled") and b.status != pms_pb2.BOOKING_STATUS_CANCELLED:
        res.failures.append(f"booking {b.reference} is not cancelled in the PMS")
    if b.adults != want.get("adults", 2) or b.children != want.get("children", 0):
        res.failures.append(f"booked {b.adults}+{b.children} guests, wanted {want}")
    if want.get("category") and b.room_type_id:
        async with trusted_channel(address) as ch:
            rts = await pms_grpc.PmsServiceStub(ch).ListRoomTypes(
                pms_pb2.ListRoomTypesRequest(hotel_id=hotel), timeout=10
            )
        cat = {r.room_type_id: r.category for r in rts.room_types}.get(b.room_type_id)
        if cat != CATEGORY[want["category"]]:
            res.failures.append(f"booked room category {cat}, wanted {want['category']}")
