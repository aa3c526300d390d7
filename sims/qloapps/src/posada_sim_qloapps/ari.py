"""`hotel_ari` — availability, rates and inventory search (docs/external-apis/qloapps.md#availability-search)."""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web

from . import pricing, store
from .render import Ctx, WsError, attr, cdata, json_response, xml_response

FLAGS = (
    "get_available_rooms",
    "get_partial_available_rooms",
    "get_booked_rooms",
    "get_unavailable_rooms",
)


def _err(msg: str, code: int = 85) -> WsError:
    return WsError(400, (code, msg))


def parse_request(body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("xml="):
        text = text[4:]
    if not text:
        raise _err("ARI search parameters are missing.")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        # JSON bodies land here (docs/external-apis/qloapps.md#availability-search: JSON is rejected).
        raise _err("Invalid ARI search parameters found.") from None
    node = root if root.tag == "hotel_ari" else root.find("hotel_ari")
    if node is None:
        raise _err("Invalid request XML")
    values = {c.tag: (c.text or "").strip() for c in node if c.tag != "associations"}
    for req in ("id_hotel", "date_from", "date_to"):
        if not values.get(req):
            raise WsError(400, (41, f'parameter "{req}" required'))
    if not re.fullmatch(r"\d+", values["id_hotel"]):
        raise _err('Validation error: "id_hotel" is not valid.')
    try:
        d_from = date.fromisoformat(values["date_from"][:10])
        d_to = date.fromisoformat(values["date_to"][:10])
    except ValueError:
        raise _err('Validation error: "date_from"/"date_to" must be dates (YYYY-MM-DD).') from None
    if d_to <= d_from:
        raise _err('"Date to" must be after "date from"')
    out: dict[str, Any] = {"id_hotel": values["id_hotel"], "date_from": d_from, "date_to": d_to}
    for k in ("id_room_type", "date_wise_breakdown", *FLAGS):
        if k in values and values[k] != "" and not re.fullmatch(r"\d+", values[k]):
            raise _err(f'Validation error: "{k}" is not valid.')
    out["id_room_type"] = int(values["id_room_type"]) if values.get("id_room_type") else 0
    out["breakdown"] = values.get("date_wise_breakdown") == "1"
    if any(f in values for f in FLAGS):
        out["flags"] = {f: values.get(f) == "1" for f in FLAGS}
    else:
        out["flags"] = {f: f == "get_available_rooms" for f in FLAGS}
    occ = node.find("associations/room_occupancies")
    occupancies = []
    if occ is not None:
        for i, o in enumerate(occ.findall("room_occupancy"), start=1):
            a = (o.findtext("adults") or "").strip()
            c = (o.findtext("children") or "").strip()
            if not re.fullmatch(r"\d+", a) or int(a) < 1:
                raise _err(f"Invalid value for number of adults for Room-{i} in room occupancy.")
            if not re.fullmatch(r"\d+", c):
                raise _err(f"Invalid value for number of children for Room-{i} in room occupancy.")
            occupancies.append((int(a), int(c)))
    # Occupancy does NOT filter availability in QloApps (docs/external-apis/qloapps.md#availability-search): the number of entries only
    # multiplies total_price.
    out["multiplier"] = max(1, len(occupancies))
    return out


def _room_info(room: sqlite3.Row, hrt: sqlite3.Row) -> dict[str, str]:
    return {
        "id_room": str(room["id"]),
        "id_product": str(room["id_product"]),
        "id_hotel": str(room["id_hotel"]),
        "room_num": str(room["room_num"]),
        "room_comment": str(room["comment"] or ""),
        "max_adult": str(hrt["max_adults"]),
        "max_children": str(hrt["max_children"]),
        "max_occupancy": str(hrt["max_guests"]),
    }


def search(
    conn: sqlite3.Connection,
    params: dict[str, Any],
    d_from: date,
    d_to: date,
    los_nights: int,
    per_night: bool = False,
) -> dict[str, Any]:
    hotel = conn.execute(
        "SELECT * FROM ws_hotels WHERE id = ?", (int(params["id_hotel"]),)
    ).fetchone()
    cur = (
        store.hotel_currency(conn, int(params["id_hotel"]))
        if hotel
        else store.default_currency(conn)
    )
    out: dict[str, Any] = {
        "id_hotel": params["id_hotel"],
        "date_from": d_from.isoformat(),
        "date_to": d_to.isoformat(),
        "currency": cur["iso_code"],
    }
    if hotel is None or not int(hotel["active"] or 0):
        return out
    sql = (
        "SELECT rt.*, h.id AS hrt_id FROM ws_room_types rt JOIN ws_hotel_room_types h ON h.id_product = rt.id "
        "WHERE h.id_hotel = ? AND rt.active = 1"
    )
    args: list[Any] = [int(params["id_hotel"])]
    if params["id_room_type"]:
        sql += " AND rt.id = ?"
        args.append(params["id_room_type"])
    flags = params["flags"]
    totals = {"total_rooms": 0, "available": 0, "partial": 0, "booked": 0, "unavailable": 0}
    room_types = []
    for rt in conn.execute(sql + " ORDER BY rt.id", args).fetchall():
        hrt = conn.execute(
            "SELECT * FROM ws_hotel_room_types WHERE id_product = ?", (rt["id"],)
        ).fetchone()
        rooms = conn.execute(
            "SELECT * FROM ws_hotel_rooms WHERE id_product = ? ORDER BY id", (rt["id"],)
        ).fetchall()
        if not rooms:
            continue
        totals["total_rooms"] += len(rooms)
        los_ok = pricing.los_ok(conn, int(rt["id"]), los_nights)
        avail: dict[str, Any] = {}
        partial: dict[str, Any] = {}
        booked: dict[str, Any] = {}
        unavail: dict[str, Any] = {}
        for room in rooms:
            rid = str(room["id"])
            if int(room["id_status"]) != 1 or not los_ok:
                status = 4 if int(room["id_status"]) == 1 else int(room["id_status"])
                unavail[rid] = {
                    "id_product": str(rt["id"]),
                    "id_room": rid,
                    "id_hotel": str(room["id_hotel"]),
                    "room_num": str(room["room_num"]),
                    "detail": [
                        {
                            "id_status": str(status),
                            "room_comment": str(room["comment"] or ""),
                            "date_from": d_from.isoformat(),
                            "date_to": d_to.isoformat(),
                        }
                    ],
                }
                continue
            busy = pricing.room_bookings_overlapping(conn, int(room["id"]), d_from, d_to)
            if not busy:
                avail[rid] = _room_info(room, hrt)
                continue
            booked[rid] = {
                "id_product": str(rt["id"]),
                "id_room": rid,
                "id_hotel": str(room["id_hotel"]),
                "room_num": str(room["room_num"]),
                "detail": [
                    {
                        "id_htl_booking": str(booking["id"]),
                        "date_from": booking["date_from"],
                        "date_to": booking["date_to"],
                        "id_customer": str(booking["id_customer"]),
                        "booking_type": str(booking["booking_type"]),
                        "booking_status": str(booking["id_status"]),
                        "comment": str(booking["comment"] or ""),
                    }
                    for booking in busy
                ],
            }
            for night in pricing.nights(d_from, d_to):
                if not pricing.room_bookings_overlapping(
                    conn, int(room["id"]), night, night + timedelta(days=1)
                ):
                    key = str(
                        int(datetime(night.year, night.month, night.day, tzinfo=UTC).timestamp())
                    )
                    slot = partial.setdefault(
                        key,
                        {
                            "date_from": night.isoformat(),
                            "date_to": (night + timedelta(days=1)).isoformat(),
                            "rooms": {},
                        },
                    )
                    slot["rooms"][rid] = _room_info(room, hrt)
        quote = pricing.quote(conn, int(rt["id"]), d_from, d_to)
        multiplier = params["multiplier"]
        entry: dict[str, Any] = {
            "id_room_type": str(rt["id"]),
            "base_price": quote.avg_excl,
            "base_price_with_tax": quote.avg_incl,
            "total_price": round(quote.total_excl * multiplier, 2),
            "total_price_with_tax": round(quote.total_incl * multiplier, 2),
            "name": store.i18n_get(rt["name"], 1),
            "rooms": {},
        }
        if per_night:
            avail = {
                k: {"id_room": v["id_room"], "room_num": v["room_num"]} for k, v in avail.items()
            }
        if flags["get_available_rooms"]:
            entry["rooms"]["available"] = avail or []
            totals["available"] += len(avail)
        if flags["get_partial_available_rooms"] and not per_night:
            entry["rooms"]["partially_available"] = partial or []
            totals["partial"] += len({rid for s in partial.values() for rid in s["rooms"]})
        if flags["get_booked_rooms"]:
            entry["rooms"]["booked"] = booked or []
            totals["booked"] += len(booked)
        if flags["get_unavailable_rooms"]:
            entry["rooms"]["unavailable"] = unavail or []
            totals["unavailable"] += len(unavail)
        room_types.append(entry)
    if room_types:
        out["total_rooms"] = totals["total_rooms"]
        if flags["get_available_rooms"]:
            out["total_available_rooms"] = totals["available"]
        if flags["get_partial_available_rooms"] and not per_night:
            out["total_partial_available_rooms"] = totals["partial"]
        if flags["get_booked_rooms"]:
            # Quirk (docs/external-apis/qloapps.md#availability-search): per-night mode computes this from the available count.
            out["total_booked_rooms"] = totals["available"] if per_night else totals["booked"]
        if flags["get_unavailable_rooms"]:
            out["total_unavailable_rooms"] = (
                totals["available"] if per_night else totals["unavailable"]
            )
        out["room_types"] = room_types
    return out


def _xml_rooms(rooms: Any, item: str = "room") -> str:
    if not rooms:
        return ""
    parts = []
    for rid, info in rooms.items():
        inner = "".join(
            f"<{'room_number' if k == 'room_num' else k}>{cdata(v)}</{'room_number' if k == 'room_num' else k}>"
            for k, v in info.items()
            if not isinstance(v, (dict, list))
        )
        if isinstance(info.get("detail"), list):
            inner += (
                "<detail>"
                + "".join(
                    "<detail>"
                    + "".join(f"<{k}>{cdata(v)}</{k}>" for k, v in d.items())
                    + "</detail>"
                    for d in info["detail"]
                )
                + "</detail>"
            )
        parts.append(f'<{item} id="{rid}">{inner}</{item}>')
    return "".join(parts)


def to_xml(obj: dict[str, Any], ctx: Ctx, node: str = "hotel_ari") -> str:
    parts = [
        f"<id_hotel xlink:href={attr(ctx.href('hotels', obj['id_hotel']))}>{cdata(obj['id_hotel'])}</id_hotel>"
    ]
    for k in (
        "date_from",
        "date_to",
        "currency",
        "total_rooms",
        "total_available_rooms",
        "total_partial_available_rooms",
        "total_booked_rooms",
        "total_unavailable_rooms",
    ):
        if k in obj:
            parts.append(f"<{k}>{cdata(obj[k])}</{k}>")
    if "room_types" in obj:
        rts = []
        for rt in obj["room_types"]:
            rooms = []
            for cat, val in rt["rooms"].items():
                tag = "partial_available" if cat == "partially_available" else cat
                if cat == "partially_available" and val:
                    inner = "".join(
                        f'<date id="{ts}"><date_from>{cdata(s["date_from"])}</date_from><date_to>{cdata(s["date_to"])}</date_to>'
                        f"<rooms>{_xml_rooms(s['rooms'])}</rooms></date>"
                        for ts, s in val.items()
                    )
                else:
                    inner = _xml_rooms(val)
                rooms.append(f"<{tag}>{inner}</{tag}>")
            href = attr(ctx.href("room_types", rt["id_room_type"]))
            rts.append(
                f'<room_type id="{rt["id_room_type"]}" xlink:href={href}>'
                f"<id_room_type xlink:href={href}>{cdata(rt['id_room_type'])}</id_room_type>"
                + "".join(
                    f"<{k}>{cdata(rt[k])}</{k}>"
                    for k in (
                        "base_price",
                        "base_price_with_tax",
                        "total_price",
                        "total_price_with_tax",
                    )
                )
                + f'<name><language id="1">{cdata(rt["name"])}</language></name>'
                + f"<rooms>{''.join(rooms)}</rooms></room_type>"
            )
        parts.append(f"<room_types>{''.join(rts)}</room_types>")
    return f"<{node}>" + "".join(parts) + f"</{node}>"


def handle(conn: sqlite3.Connection, body: bytes, ctx: Ctx) -> web.Response:
    params = parse_request(body)
    d_from, d_to = params["date_from"], params["date_to"]
    stay_nights = (d_to - d_from).days
    if not params["breakdown"]:
        obj = search(conn, params, d_from, d_to, stay_nights)
        return json_response({"hotel_ari": obj}) if ctx.json else xml_response(to_xml(obj, ctx))
    answers = [
        search(conn, params, night, night + timedelta(days=1), stay_nights, per_night=True)
        for night in pricing.nights(d_from, d_to)
    ]
    if ctx.json:
        return json_response({"hotel_aris": answers})
    return xml_response(
        "<hotel_aris>" + "".join(to_xml(answer, ctx) for answer in answers) + "</hotel_aris>"
    )
