"""Nightly prices from the room type's base price and its feature prices (docs/external-apis/qloapps.md#catalogue), plus
availability of rooms over a stay."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from . import store

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def nights(d_from: date, d_to: date) -> list[date]:
    return [d_from + timedelta(days=i) for i in range((d_to - d_from).days)]


def _priority(conn: sqlite3.Connection) -> list[str]:
    row = conn.execute(
        "SELECT value FROM ws_configurations WHERE name = 'HTL_FEATURE_PRICING_PRIORITY'"
    ).fetchone()
    return (row["value"] if row else "specific_date;special_day;date_range").split(";")


def nightly_prices(
    conn: sqlite3.Connection, id_product: int, d_from: date, d_to: date
) -> list[float]:
    """Tax-excluded price of each night, in the hotel's currency.

    One feature price applies per night, chosen by HTL_FEATURE_PRICING_PRIORITY (specific date,
    then special days, then date range). When several rules of the same kind match, the one
    with the shortest date range wins, then the lowest id (the stand-in's tie-break; QloApps'
    own tie-break was not verified).
    """
    rt = conn.execute("SELECT price FROM ws_room_types WHERE id = ?", (id_product,)).fetchone()
    base = float(rt["price"]) if rt else 0.0
    rules = conn.execute(
        "SELECT * FROM ws_feature_prices WHERE id_product = ? AND active = 1 AND id_cart = 0 "
        "AND id_room = 0 ORDER BY id",
        (id_product,),
    ).fetchall()
    prio = _priority(conn)
    out = []
    for d in nights(d_from, d_to):
        ds = d.isoformat()
        matches: dict[str, list[sqlite3.Row]] = {
            "specific_date": [],
            "special_day": [],
            "date_range": [],
        }
        for r in rules:
            if int(r["date_selection_type"]) == 2:
                if r["date_from"] == ds:
                    matches["specific_date"].append(r)
                continue
            if not (r["date_from"] <= ds <= (r["date_to"] or r["date_from"])):
                continue
            if int(r["is_special_days_exists"] or 0):
                try:
                    days = json.loads(r["special_days"] or "[]") or []
                except ValueError:
                    days = []
                if WEEKDAYS[d.weekday()] in days:
                    matches["special_day"].append(r)
            else:
                matches["date_range"].append(r)
        price = base
        for kind in prio:
            cands = matches.get(kind) or []
            if cands:
                best = min(
                    cands,
                    key=lambda r: (
                        (
                            date.fromisoformat(r["date_to"] or r["date_from"])
                            - date.fromisoformat(r["date_from"])
                        ).days,
                        r["id"],
                    ),
                )
                price = apply_rule(base, best)
                break
        out.append(round(price, 2))
    return out


def apply_rule(base: float, r: sqlite3.Row) -> float:
    way, kind, value = int(r["impact_way"]), int(r["impact_type"]), float(r["impact_value"])
    if way == 3:
        return value
    delta = base * value / 100.0 if kind == 1 else value
    return max(0.0, base - delta) if way == 1 else base + delta


@dataclass
class Quote:
    nightly_excl: list[float]
    tax_rate: float
    currency: sqlite3.Row

    @property
    def total_excl(self) -> float:
        return round(sum(self.nightly_excl), 2)

    @property
    def total_incl(self) -> float:
        return round(self.total_excl * (1 + self.tax_rate / 100.0), 2)

    @property
    def avg_excl(self) -> float:
        n = len(self.nightly_excl)
        return round(self.total_excl / n, 2) if n else 0.0

    @property
    def avg_incl(self) -> float:
        return round(self.avg_excl * (1 + self.tax_rate / 100.0), 2)


def quote(conn: sqlite3.Connection, id_product: int, d_from: date, d_to: date) -> Quote:
    rt = conn.execute(
        "SELECT id_hotel, id_tax_rules_group FROM ws_room_types WHERE id = ?", (id_product,)
    ).fetchone()
    rate = store.tax_rate(conn, int(rt["id_tax_rules_group"] or 0)) if rt else 0.0
    cur = store.hotel_currency(conn, int(rt["id_hotel"])) if rt else store.default_currency(conn)
    return Quote(nightly_prices(conn, id_product, d_from, d_to), rate, cur)


def room_bookings_overlapping(
    conn: sqlite3.Connection, id_room: int, d_from: date, d_to: date
) -> list[sqlite3.Row]:
    """Active (not cancelled/refunded) booked-room rows of a room overlapping [d_from, d_to)."""
    return conn.execute(
        "SELECT * FROM ws_room_bookings WHERE id_room = ? AND is_refunded = 0 AND is_cancelled = 0 "
        "AND substr(date_from, 1, 10) < ? AND substr(date_to, 1, 10) > ? ORDER BY id",
        (id_room, d_to.isoformat(), d_from.isoformat()),
    ).fetchall()


def free_rooms(
    conn: sqlite3.Connection,
    id_product: int,
    d_from: date,
    d_to: date,
    exclude_order: int | None = None,
) -> list[sqlite3.Row]:
    """Active rooms of a room type free for the whole stay (LOS not checked here)."""
    rooms = conn.execute(
        "SELECT * FROM ws_hotel_rooms WHERE id_product = ? AND id_status = 1 ORDER BY id",
        (id_product,),
    ).fetchall()
    out = []
    for r in rooms:
        busy = [
            b
            for b in room_bookings_overlapping(conn, int(r["id"]), d_from, d_to)
            if exclude_order is None or int(b["id_order"]) != exclude_order
        ]
        if not busy:
            out.append(r)
    return out


def los_ok(conn: sqlite3.Connection, id_product: int, n_nights: int) -> bool:
    hrt = conn.execute(
        "SELECT min_los, max_los FROM ws_hotel_room_types WHERE id_product = ?", (id_product,)
    ).fetchone()
    if hrt is None:
        return True
    min_los, max_los = int(hrt["min_los"] or 0), int(hrt["max_los"] or 0)
    return n_nights >= max(min_los, 1) and (max_los == 0 or n_nights <= max_los)
