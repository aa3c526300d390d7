"""`bookings` — the booking management API of QloApps 1.6.1 (docs/external-apis/qloapps.md#booking-create), `order_histories` effects
(docs/external-apis/qloapps.md#orders-and-states) and the order/room-booking rows behind them."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import string
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiohttp import web

from . import pricing, store
from .generic import hash_password, new_secure_key
from .render import Ctx, EmptyNotFound, WsError, attr, json_response, tree_to_xml, xml_response

PAYMENT_TYPES = ("online", "remote", "pay at hotel")
FREEING_STATES = (4, 5, 6)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[+0-9. ()/-]{4,32}$")


def bad(msg: str, code: int = 404) -> WsError:
    # Every bookings validation failure is HTTP 400 with error code 404 (docs/external-apis/qloapps.md#errors, docs/external-apis/qloapps.md#booking-create).
    return WsError(400, (code, msg))


# --- body parsing -------------------------------------------------------------------------


def _xml_to_tree(el: ET.Element) -> Any:
    children = list(el)
    if not children:
        return (el.text or "").strip()
    out: dict[str, Any] = {}
    for c in children:
        v = _xml_to_tree(c)
        if c.tag in out:
            if not isinstance(out[c.tag], list) or not getattr(out[c.tag], "_multi", False):
                out[c.tag] = _Multi([out[c.tag]])
            out[c.tag].append(v)
        else:
            out[c.tag] = v
    return {k: list(v) if isinstance(v, _Multi) else v for k, v in out.items()}


class _Multi(list):
    _multi = True


def parse_body(body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8", "replace").strip()
    if not text:
        raise WsError(400, (127, "Empty request body"))
    if text.startswith("{") or text.startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise WsError(500, (127, f"JSON error : {exc}")) from None
    else:
        if text.startswith("xml="):
            text = text[4:]
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise WsError(500, (127, f"XML error : {exc}")) from None
        data = {root.tag: _xml_to_tree(root)} if root.tag == "booking" else _xml_to_tree(root)
    if not isinstance(data, dict) or not isinstance(data.get("booking"), dict):
        raise bad("Invalid request: booking not found.")
    booking = dict(data["booking"])
    assoc = booking.pop("associations", None)
    if isinstance(assoc, dict):
        # associations are merged into booking (docs/external-apis/qloapps.md#booking-create)
        booking.update(assoc)
    return booking


def as_list(v: Any, item: str) -> list[Any]:
    """Accept JSON arrays or XML-style wrappers ({"room_type": [...]} / {"room_type": {...}})."""
    if v is None or v == "" or v == {}:
        return []
    if isinstance(v, list):
        return v
    if isinstance(v, dict):
        if set(v) == {item}:
            return as_list(v[item], item)
        return [v]
    return [v]


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
        return int(v)
    return None


def _float(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _date(v: Any) -> date | None:
    try:
        return date.fromisoformat(str(v).strip()[:10])
    except ValueError:
        return None


# --- plans ----------------------------------------------------------------------------------


@dataclass
class RoomPlan:
    id_product: int
    id_room: int
    d_from: date
    d_to: date
    adults: int
    children: int
    child_ages: list[int]
    price_excl: float  # whole stay, order currency
    tax: float  # whole stay
    # rooms[] entry without id_tax_rules_group / total_tax (docs/external-apis/qloapps.md#booking-create)
    notice: bool = False


@dataclass
class CreatePlan:
    id_hotel: int
    currency: sqlite3.Row
    id_lang: int
    customer: dict[str, Any]
    source: str
    booking_date: str | None
    remark: str
    booking_status: int
    payment_status: int
    total_paid: float
    payment_detail: dict[str, Any]
    rooms: list[RoomPlan] = field(default_factory=list)


def _currency(conn: sqlite3.Connection, iso: Any) -> sqlite3.Row | None:
    if not isinstance(iso, str) or not iso.strip():
        return None
    row = conn.execute(
        "SELECT * FROM ws_currencies WHERE upper(iso_code) = upper(?) AND deleted = 0",
        (iso.strip(),),
    ).fetchone()
    if row is not None and not int(row["active"]):
        # inactive currency → shop default (docs/external-apis/qloapps.md#booking-create)
        row = store.default_currency(conn)
    return row


def _validate_customer(conn: sqlite3.Connection, cd: Any, require_phone: bool) -> dict[str, Any]:
    if not isinstance(cd, dict) or not cd:
        raise bad("Customer details not found.")
    out: dict[str, Any] = {}
    if cd.get("id_customer") not in (None, "", 0, "0"):
        cid = _int(cd.get("id_customer"))
        if (
            cid is None
            or conn.execute(
                "SELECT 1 FROM ws_customers WHERE id = ? AND deleted = 0", (cid,)
            ).fetchone()
            is None
        ):
            raise bad("Please provide a valid id_customer.")
        out["id_customer"] = cid
    for key, label in (("firstname", "first name"), ("lastname", "last name")):
        v = str(cd.get(key) or "").strip()
        if not v or re.search(r"[0-9!<>,;?=+()@#\"°{}_$%:]", v):
            raise bad(f"Please provide a valid {label}.")
        out[key] = v
    email = str(cd.get("email") or "").strip()
    if not EMAIL_RE.match(email):
        raise bad("Please provide a valid email.")
    out["email"] = email
    phone = str(cd.get("phone") or "").strip()
    if (require_phone and not phone) or (phone and not PHONE_RE.match(phone)):
        raise bad("Please provide a valid phone number.")
    out["phone"] = phone
    addr_keys = ("address", "city", "zip", "country_code", "state_code")
    if any(str(cd.get(k) or "").strip() for k in addr_keys):
        if not str(cd.get("address") or "").strip():
            raise bad("Address is required.")
        if not str(cd.get("city") or "").strip():
            raise bad("City is required.")
        cc = str(cd.get("country_code") or "").strip()
        if not cc:
            raise bad("Country code is required.")
        country = conn.execute(
            "SELECT * FROM ws_countries WHERE upper(iso_code) = upper(?)", (cc,)
        ).fetchone()
        if country is None:
            raise bad("Invalid country code.")
        if int(country["contains_states"]):
            sc = str(cd.get("state_code") or "").strip()
            if not sc:
                raise bad("State code is required for the given country.")
            if (
                conn.execute(
                    "SELECT 1 FROM ws_states WHERE id_country = ? AND upper(iso_code) = upper(?)",
                    (country["id"], sc),
                ).fetchone()
                is None
            ):
                raise bad("Invalid state code.")
        if int(country["need_zip_code"]) and not str(cd.get("zip") or "").strip():
            raise bad("Zip code is required.")
    return out


def _find_customer(conn: sqlite3.Connection, cust: dict[str, Any]) -> sqlite3.Row | None:
    if cust.get("id_customer"):
        return conn.execute(
            "SELECT * FROM ws_customers WHERE id = ?", (cust["id_customer"],)
        ).fetchone()
    return conn.execute(
        "SELECT * FROM ws_customers WHERE lower(email) = lower(?) AND deleted = 0 ORDER BY id LIMIT 1",
        (cust["email"],),
    ).fetchone()


def _require_phone(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT value FROM ws_configurations WHERE name = 'PS_ONE_PHONE_AT_LEAST'"
    ).fetchone()
    return bool(row and row["value"] == "1")


def _convert(amount: float, from_cur: sqlite3.Row, to_cur: sqlite3.Row) -> float:
    if int(from_cur["id"]) == int(to_cur["id"]):
        return amount
    return amount / float(from_cur["conversion_rate"]) * float(to_cur["conversion_rate"])


def _plan_rooms(
    conn: sqlite3.Connection,
    id_hotel: int,
    currency: sqlite3.Row,
    room_types: list[Any],
    exclude_order: int | None = None,
    taken: set[tuple[int, str, str]] | None = None,
    msg_unavailable: str = "Requested room(s) not available.",
) -> list[RoomPlan]:
    """Validate requested room-type lines and assign free rooms (availability check)."""
    if not room_types:
        raise bad("Rooms not found in the request.")
    plans: list[RoomPlan] = []
    today = date.today()
    for line in room_types:
        if not isinstance(line, dict):
            raise bad("Invalid room type in the request")
        pid = _int(line.get("id_room_type"))
        if line.get("id_room_type") in (None, ""):
            raise bad("Id room type is missing")
        d_from, d_to = _date(line.get("checkin_date")), _date(line.get("checkout_date"))
        if d_from is None:
            raise bad("Invalid check in date in the request")
        if d_to is None:
            raise bad("Invalid check out date in the request")
        if line.get("number_of_rooms") in (None, ""):
            raise bad("number of rooms is missing")
        n_rooms = _int(line.get("number_of_rooms"))
        rt = None
        if pid is not None:
            rt = conn.execute(
                "SELECT rt.*, h.adults AS b_adults, h.children AS b_children FROM ws_room_types rt "
                "JOIN ws_hotel_room_types h ON h.id_product = rt.id WHERE rt.id = ? AND h.id_hotel = ?",
                (pid, id_hotel),
            ).fetchone()
        if rt is None or pid is None:
            raise bad("Invalid room type in the request")
        if n_rooms is None or n_rooms < 1:
            raise bad("number of rooms is missing")
        rooms_req = as_list(line.get("rooms"), "room")
        if rooms_req and len(rooms_req) != n_rooms:
            raise bad("Room count does not matches with the number of rooms")
        if d_from > d_to:
            raise bad("Invalid check in and check out dates in the request")
        # Front-office search rules: no past or zero-night stays, LOS limits, active room type.
        if (
            d_from == d_to
            or d_from < today
            or not int(rt["active"])
            or not pricing.los_ok(conn, pid, (d_to - d_from).days)
        ):
            raise bad(msg_unavailable)
        free = [
            r
            for r in pricing.free_rooms(conn, pid, d_from, d_to, exclude_order=exclude_order)
            if taken is None or (int(r["id"]), d_from.isoformat(), d_to.isoformat()) not in taken
        ]
        quote = pricing.quote(conn, pid, d_from, d_to)
        pinned = [
            _int(r.get("id_room"))
            for r in rooms_req
            if isinstance(r, dict) and r.get("id_room") not in (None, "", 0, "0")
        ]
        free_ids = [int(r["id"]) for r in free]
        for p in pinned:
            if p not in free_ids:
                raise bad(msg_unavailable)
        unpinned = [i for i in free_ids if i not in pinned]
        if len(free_ids) < n_rooms:
            raise bad(msg_unavailable)
        for i in range(n_rooms):
            spec = rooms_req[i] if i < len(rooms_req) and isinstance(rooms_req[i], dict) else {}
            rid = (
                _int(spec.get("id_room")) if spec.get("id_room") not in (None, "", 0, "0") else None
            )
            if rid is None:
                rid = unpinned.pop(0)
            # Quirk (docs/external-apis/qloapps.md#booking-create): the create code reads `adult` (singular); `adults` alone is ignored.
            adults = _int(spec.get("adult"))
            children = _int(spec.get("child"))
            if adults is None:
                adults = int(rt["b_adults"])
                if children is None:
                    children = int(rt["b_children"])
            children = children or 0
            ages = [
                a
                for a in (_int(x) for x in as_list(spec.get("child_ages"), "child_age"))
                if a is not None
            ]
            unit = _float(spec.get("unit_price_without_tax"))
            # unit_price_without_tax is the whole-stay price (applied as nightly = unit / nights).
            price = (
                unit if unit is not None else _convert(quote.total_excl, quote.currency, currency)
            )
            if spec.get("total_tax") not in (None, ""):
                tax = float(_float(spec.get("total_tax")) or 0.0)  # rewrites the room's tax
            elif spec.get("id_tax_rules_group") not in (None, ""):
                tax = (
                    price * store.tax_rate(conn, _int(spec.get("id_tax_rules_group")) or 0) / 100.0
                )
            else:
                tax = price * quote.tax_rate / 100.0
            notice = (
                bool(rooms_req)
                and spec.get("total_tax") in (None, "")
                and spec.get("id_tax_rules_group") in (None, "")
            )
            plans.append(
                RoomPlan(
                    pid,
                    rid,
                    d_from,
                    d_to,
                    adults,
                    children,
                    ages,
                    round(price, 2),
                    round(tax, 2),
                    notice,
                )
            )
            if taken is not None:
                taken.add((rid, d_from.isoformat(), d_to.isoformat()))
    return plans


def _state_for(booking_status: int, payment_status: int, total_paid: float, total: float) -> int:
    """Order state on create (docs/external-apis/qloapps.md#booking-create)."""
    if booking_status == 3:
        return 4
    if booking_status == 4:
        return 5
    if booking_status == 2:
        return 8 if 0 < total_paid < total else 2
    if total_paid > 0:
        return 2 if total_paid >= total else 8
    return {1: 2, 2: 8}.get(payment_status, 1)


def prepare_create(conn: sqlite3.Connection, booking_doc: dict[str, Any]) -> CreatePlan:
    """All validations and the availability check — nothing is written (docs/external-apis/qloapps.md#booking-create)."""
    if booking_doc.get("id") not in (None, ""):
        raise bad("id is forbidden when adding a new resource")
    currency = _currency(conn, booking_doc.get("currency"))
    if currency is None:
        raise bad("Please provide valid currency.")
    if not isinstance(booking_doc.get("customer_detail"), dict):
        raise bad("Customer details not found.")
    id_hotel = _int(booking_doc.get("id_property"))
    if (
        id_hotel is None
        or conn.execute("SELECT 1 FROM ws_hotels WHERE id = ?", (id_hotel,)).fetchone() is None
    ):
        raise bad("Please provide a valid id_property.")
    customer = _validate_customer(conn, booking_doc.get("customer_detail"), _require_phone(conn))
    pd = _dict(booking_doc.get("price_details"))
    total_paid = 0.0
    if pd.get("total_paid") not in (None, ""):
        tp = _float(pd.get("total_paid"))
        if tp is None or tp < 0:
            raise bad("Invalid value for total paid.")
        total_paid = tp
    bs = (
        _int(booking_doc.get("booking_status"))
        if booking_doc.get("booking_status") not in (None, "")
        else 1
    )
    if bs not in (1, 2, 3, 4):
        raise bad("Invalid booking status.")
    ps = (
        _int(booking_doc.get("payment_status"))
        if booking_doc.get("payment_status") not in (None, "")
        else 3
    )
    if ps not in (1, 2, 3):
        raise bad("Invalid payment status.")
    pdet = _dict(booking_doc.get("payment_detail"))
    ptype = str(pdet.get("payment_type") or "online").strip().lower()
    if ptype not in PAYMENT_TYPES:
        raise bad("Invalid payment type.")
    if as_list(booking_doc.get("cart_rules"), "cart_rule"):
        # Stand-in: no cart rules exist, so every code is unknown (one-off rules not emulated).
        raise bad("Invalid code for cart rule.")
    lang = _int(booking_doc.get("id_language")) or 1
    if (
        conn.execute("SELECT 1 FROM ws_languages WHERE id = ? AND active = 1", (lang,)).fetchone()
        is None
    ):
        lang = 1
    plan = CreatePlan(
        id_hotel=id_hotel,
        currency=currency,
        id_lang=lang,
        customer=customer,
        source=str(booking_doc.get("source") or ""),
        booking_date=str(booking_doc["booking_date"]) if booking_doc.get("booking_date") else None,
        remark=str(booking_doc.get("remark") or ""),
        booking_status=bs,
        payment_status=ps,
        total_paid=total_paid,
        payment_detail={**pdet, "payment_type": ptype},
    )
    plan.rooms = _plan_rooms(
        conn, id_hotel, currency, as_list(booking_doc.get("room_types"), "room_type"), taken=set()
    )
    return plan


def _reference(conn: sqlite3.Connection) -> str:
    while True:
        ref = "".join(random.choices(string.ascii_uppercase, k=9))
        if conn.execute("SELECT 1 FROM ws_orders WHERE reference = ?", (ref,)).fetchone() is None:
            return ref


def _upsert_customer(conn: sqlite3.Connection, cust: dict[str, Any], id_lang: int) -> int:
    row = _find_customer(conn, cust)
    ts = store.now_str()
    if row is not None:
        upd = {"firstname": cust["firstname"], "lastname": cust["lastname"], "date_upd": ts}
        if cust.get("phone"):
            upd["phone"] = cust["phone"]
        store.update(conn, "ws_customers", int(row["id"]), upd)
        return int(row["id"])
    return store.insert(
        conn,
        "ws_customers",
        dict(
            id_default_group=3,
            id_lang=id_lang,
            newsletter_date_add="0000-00-00 00:00:00",
            ip_registration_newsletter="",
            last_passwd_gen=ts,
            secure_key=new_secure_key(),
            deleted=0,
            passwd=hash_password(new_secure_key()),
            lastname=cust["lastname"],
            firstname=cust["firstname"],
            email=cust["email"],
            phone=cust.get("phone", ""),
            id_gender=0,
            birthday="0000-00-00",
            newsletter=0,
            optin=0,
            website="",
            company="",
            siret="",
            ape="",
            outstanding_allow_amount=0,
            show_public_prices=0,
            id_risk=0,
            max_payment_days=0,
            active=1,
            note="",
            is_guest=0,
            id_shop=1,
            id_shop_group=1,
            date_add=ts,
            date_upd=ts,
            reset_password_token="",
            reset_password_validity="0000-00-00 00:00:00",
        ),
    )


def _insert_room_rows(
    conn: sqlite3.Connection, order_id: int, id_customer: int, plans: list[RoomPlan]
) -> None:
    ts = store.now_str()
    for p in plans:
        room = conn.execute("SELECT * FROM ws_hotel_rooms WHERE id = ?", (p.id_room,)).fetchone()
        rt = conn.execute("SELECT * FROM ws_room_types WHERE id = ?", (p.id_product,)).fetchone()
        hotel = conn.execute("SELECT * FROM ws_hotels WHERE id = ?", (room["id_hotel"],)).fetchone()
        store.insert(
            conn,
            "ws_room_bookings",
            dict(
                id_product=p.id_product,
                id_order=order_id,
                id_order_detail=order_id,
                id_cart=order_id,
                id_room=p.id_room,
                id_hotel=room["id_hotel"],
                id_customer=id_customer,
                booking_type=1,
                id_status=1,
                comment="",
                check_in="0000-00-00 00:00:00",
                check_out="0000-00-00 00:00:00",
                date_from=f"{p.d_from.isoformat()} 00:00:00",
                date_to=f"{p.d_to.isoformat()} 00:00:00",
                total_price_tax_excl=p.price_excl,
                total_price_tax_incl=round(p.price_excl + p.tax, 2),
                total_paid_amount=0,
                is_back_order=0,
                is_refunded=0,
                is_cancelled=0,
                room_num=room["room_num"],
                room_type_name=store.i18n_get(rt["name"], 1),
                hotel_name=store.i18n_get(hotel["hotel_name"], 1),
                city=hotel["city"],
                state="",
                country="",
                zipcode=hotel["zipcode"],
                phone=hotel["phone"],
                email=hotel["email"],
                check_in_time=hotel["check_in"],
                check_out_time=hotel["check_out"],
                adults=p.adults,
                children=p.children,
                child_ages=json.dumps(p.child_ages),
                date_add=ts,
                date_upd=ts,
            ),
        )


def _recompute_totals(conn: sqlite3.Connection, order_id: int) -> tuple[float, float]:
    row = conn.execute(
        "SELECT COALESCE(SUM(total_price_tax_excl), 0) AS ex, COALESCE(SUM(total_price_tax_incl), 0) AS inc "
        "FROM ws_room_bookings WHERE id_order = ?",
        (order_id,),
    ).fetchone()
    ex, inc = round(float(row["ex"]), 2), round(float(row["inc"]), 2)
    store.update(
        conn,
        "ws_orders",
        order_id,
        dict(
            total_products=ex,
            total_products_wt=inc,
            total_paid_tax_excl=ex,
            total_paid_tax_incl=inc,
            total_paid=inc,
            date_upd=store.now_str(),
        ),
    )
    return ex, inc


def add_history(conn: sqlite3.Connection, order_id: int, state: int) -> int:
    return store.insert(
        conn,
        "ws_order_histories",
        dict(id_employee=0, id_order_state=state, id_order=order_id, date_add=store.now_str()),
    )


def apply_state(conn: sqlite3.Connection, order_id: int, state: int) -> None:
    """Order state change side effects (hotel module hook actionOrderStatusPostUpdate)."""
    store.update(conn, "ws_orders", order_id, dict(current_state=state, date_upd=store.now_str()))
    if state in FREEING_STATES:
        conn.execute(
            "UPDATE ws_room_bookings SET is_refunded = 1, is_cancelled = ?, date_upd = ? WHERE id_order = ?",
            (1 if state == 4 else 0, store.now_str(), order_id),
        )
    paid = conn.execute("SELECT paid FROM ws_order_states WHERE id = ?", (state,)).fetchone()
    if paid is not None:
        store.update(conn, "ws_orders", order_id, dict(valid=int(paid["paid"])))


def commit_create(conn: sqlite3.Connection, plan: CreatePlan) -> tuple[int, bool]:
    """Write the order; returns (order id, notice) — notice means a PHP notice would be appended."""
    ts = store.now_str()
    with store.tx(conn):
        id_customer = _upsert_customer(conn, plan.customer, plan.id_lang)
        total_excl = round(sum(r.price_excl for r in plan.rooms), 2)
        total_incl = round(sum(r.price_excl + r.tax for r in plan.rooms), 2)
        pay_name = str(plan.payment_detail.get("payment_method") or "Order from API")
        src = plan.source
        if not src:
            dom = conn.execute(
                "SELECT value FROM ws_configurations WHERE name = 'PS_SHOP_DOMAIN'"
            ).fetchone()
            src = dom["value"] if dom else ""
        order_id = store.insert(
            conn,
            "ws_orders",
            dict(
                id_address_delivery=0,
                id_address_invoice=0,
                id_cart=0,
                id_currency=plan.currency["id"],
                id_lang=plan.id_lang,
                id_customer=id_customer,
                id_carrier=0,
                current_state=0,
                module="wsorder",
                invoice_number=0,
                invoice_date="0000-00-00 00:00:00",
                delivery_number=0,
                delivery_date="0000-00-00 00:00:00",
                valid=0,
                date_add=plan.booking_date or ts,
                date_upd=ts,
                id_shop_group=1,
                id_shop=1,
                secure_key=new_secure_key(),
                payment=pay_name,
                payment_type=plan.payment_detail.get("payment_type", "online"),
                recyclable=0,
                conversion_rate=float(plan.currency["conversion_rate"]),
                source=src[:255],
                total_discounts=0,
                total_discounts_tax_incl=0,
                total_discounts_tax_excl=0,
                total_paid=total_incl,
                total_paid_tax_incl=total_incl,
                total_paid_tax_excl=total_excl,
                total_paid_real=plan.total_paid,
                total_products=total_excl,
                total_products_wt=total_incl,
                round_mode=2,
                round_type=2,
                is_advance_payment=0,
                advance_paid_amount=0,
                with_occupancy=1,
                reference=_reference(conn),
            ),
        )
        store.update(conn, "ws_orders", order_id, dict(id_cart=order_id))
        _insert_room_rows(conn, order_id, id_customer, plan.rooms)
        if plan.remark:
            conn.execute(
                "INSERT INTO order_messages (id_order, message, date_add) VALUES (?, ?, ?)",
                (order_id, plan.remark, ts),
            )
        if plan.total_paid > 0:
            _record_payment(conn, order_id, plan.total_paid, plan.payment_detail)
        state = _state_for(plan.booking_status, plan.payment_status, plan.total_paid, total_incl)
        add_history(conn, order_id, state)
        apply_state(conn, order_id, state)
    return order_id, any(r.notice for r in plan.rooms)


def _record_payment(
    conn: sqlite3.Connection, order_id: int, amount: float, pdet: dict[str, Any]
) -> None:
    conn.execute(
        "INSERT INTO order_payments (id_order, amount, payment_method, payment_type, transaction_id, date_add) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            order_id,
            amount,
            str(pdet.get("payment_method") or ""),
            str(pdet.get("payment_type") or ""),
            str(pdet.get("transaction_id") or ""),
            store.now_str(),
        ),
    )


# --- output ---------------------------------------------------------------------------------


def booking_obj(conn: sqlite3.Connection, order_id: int) -> dict[str, Any] | None:
    order = conn.execute("SELECT * FROM ws_orders WHERE id = ?", (order_id,)).fetchone()
    if order is None:
        return None
    cur = conn.execute(
        "SELECT iso_code FROM ws_currencies WHERE id = ?", (order["id_currency"],)
    ).fetchone()
    cust = conn.execute(
        "SELECT * FROM ws_customers WHERE id = ?", (order["id_customer"],)
    ).fetchone()
    rows = conn.execute(
        "SELECT * FROM ws_room_bookings WHERE id_order = ? ORDER BY id", (order_id,)
    ).fetchall()
    groups: dict[tuple[int, str, str], list[sqlite3.Row]] = {}
    for r in rows:
        groups.setdefault((int(r["id_product"]), r["date_from"], r["date_to"]), []).append(r)
    room_types = []
    for (pid, dfrom, dto), rs in groups.items():
        room_types.append(
            {
                "id_room_type": pid,
                "checkin_date": dfrom,
                "checkout_date": dto,
                "total_tax": round(
                    sum(
                        float(r["total_price_tax_incl"]) - float(r["total_price_tax_excl"])
                        for r in rs
                    ),
                    2,
                ),
                "number_of_rooms": len(rs),
                "name": rs[0]["room_type_name"],
                "rooms": [
                    {
                        "id_room": int(r["id_room"]),
                        "id_hotel_booking": int(r["id"]),
                        "adults": int(r["adults"]),
                        "child": int(r["children"]),
                        "unit_price_without_tax": float(r["total_price_tax_excl"]),
                        "total_tax": round(
                            float(r["total_price_tax_incl"]) - float(r["total_price_tax_excl"]), 2
                        ),
                    }
                    for r in rs
                ],
            }
        )
    id_hotel = int(rows[0]["id_hotel"]) if rows else 0
    remarks = [
        m["message"]
        for m in conn.execute(
            "SELECT message FROM order_messages WHERE id_order = ? ORDER BY id", (order_id,)
        )
    ]
    return {
        "id": int(order["id"]),
        "id_property": id_hotel,
        "currency": (cur["iso_code"] if cur else "").upper(),
        "source": order["source"] or "",
        "booking_date": order["date_add"],
        "id_language": int(order["id_lang"]),
        "associations": {
            "customer_detail": {
                "id_customer": int(cust["id"]) if cust else 0,
                "firstname": cust["firstname"] if cust else "",
                "lastname": cust["lastname"] if cust else "",
                "email": cust["email"] if cust else "",
                "phone": (cust["phone"] or "") if cust else "",
            },
            "price_details": {
                "total_paid": float(order["total_paid_real"] or 0),
                "total_price_without_tax": float(order["total_paid_tax_excl"] or 0),
                "total_tax": round(
                    float(order["total_paid_tax_incl"] or 0)
                    - float(order["total_paid_tax_excl"] or 0),
                    2,
                ),
            },
            "cart_rules": [],
            "remarks": remarks,
            "room_types": room_types,
        },
    }


def render_booking(obj: dict[str, Any], ctx: Ctx, status: int = 200) -> web.Response:
    if ctx.json:
        return json_response({"booking": obj}, status)
    return xml_response(tree_to_xml("booking", obj, empty_zero=True), status)


# --- handlers -------------------------------------------------------------------------------


def get(conn: sqlite3.Connection, rid: str | None, query: Any, ctx: Ctx) -> web.Response:
    if "schema" in query:
        if query["schema"] not in ("blank", "synopsis"):
            raise WsError(400, (28, "Please select a schema of type 'synopsis' or 'blank'"))
        tmpl = {
            "id": "",
            "id_property": "",
            "currency": "",
            "booking_status": "",
            "payment_status": "",
            "source": "",
            "booking_date": "",
            "id_language": "",
            "remark": "",
            "associations": {
                "customer_detail": {
                    "id_customer": "",
                    "firstname": "",
                    "lastname": "",
                    "email": "",
                    "phone": "",
                    "address": "",
                    "city": "",
                    "zip": "",
                    "country_code": "",
                    "state_code": "",
                },
                "price_details": {"total_paid": "", "total_price_with_tax": ""},
                "payment_detail": {"payment_type": "", "payment_method": "", "transaction_id": ""},
                "cart_rules": [{"code": "", "type": "", "value": "", "currency": "", "name": ""}],
                "room_types": [
                    {
                        "id_room_type": "",
                        "checkin_date": "",
                        "checkout_date": "",
                        "number_of_rooms": "",
                        "rooms": [
                            {
                                "id_room": "",
                                "adults": "",
                                "child": "",
                                "child_ages": [],
                                "unit_price_without_tax": "",
                                "id_tax_rules_group": "",
                                "services": [],
                                "facilities": [],
                            }
                        ],
                    }
                ],
            },
        }
        return render_booking(tmpl, ctx)
    if rid is None:
        # 1.6.1: all orders, no filters, no paging (docs/external-apis/qloapps.md#booking-create).
        ids = [int(r["id"]) for r in conn.execute("SELECT id FROM ws_orders ORDER BY id")]
        if ctx.json:
            return json_response({"bookings": [{"id": i} for i in ids]} if ids else [])
        inner = "".join(
            f'<booking id="{i}" xlink:href={attr(ctx.href("bookings", i))}/>' for i in ids
        )
        return xml_response(f"<bookings>{inner}</bookings>")
    if not rid.isdigit():
        raise EmptyNotFound()
    obj = booking_obj(conn, int(rid))
    if obj is None:
        raise EmptyNotFound()
    return render_booking(obj, ctx)


NOTICE = (
    8,
    "[PHP Notice #8] Undefined index: id_tax_rules_group "
    "(/classes/webservice/WebserviceSpecificManagementBookings.php, line 1357)",
)


def put(conn: sqlite3.Connection, body: bytes, ctx: Ctx) -> web.Response:
    booking_doc = parse_body(body)
    oid = _int(booking_doc.get("id"))  # the id that counts is booking.id in the body (URL ignored)
    if booking_doc.get("id") in (None, "") or oid is None:
        raise bad("id is required with PUT requests.")
    order = conn.execute("SELECT * FROM ws_orders WHERE id = ?", (oid,)).fetchone()
    if order is None:
        raise bad("Booking not found.")
    id_hotel = _int(booking_doc.get("id_property"))
    if (
        id_hotel is None
        or conn.execute("SELECT 1 FROM ws_hotels WHERE id = ?", (id_hotel,)).fetchone() is None
    ):
        raise bad("Please provide a valid id_property.")
    cd = _dict(booking_doc.get("customer_detail"))
    if cd.get("id_customer") not in (None, "", 0, "0"):
        cid = _int(cd.get("id_customer"))
        if (
            cid is None
            or conn.execute("SELECT 1 FROM ws_customers WHERE id = ?", (cid,)).fetchone() is None
        ):
            raise bad("Invalid ID customer.")
    email = str(cd.get("email") or "").strip()
    cust = (
        conn.execute(
            "SELECT * FROM ws_customers WHERE lower(email) = lower(?) AND deleted = 0 ORDER BY id LIMIT 1",
            (email,),
        ).fetchone()
        if email
        else None
    )
    if cust is None:
        raise bad("Customer not found.")
    bs = (
        _int(booking_doc.get("booking_status"))
        if booking_doc.get("booking_status") not in (None, "")
        else None
    )
    if booking_doc.get("booking_status") not in (None, "") and bs not in (1, 2, 3, 4):
        raise bad("Invalid booking status.")
    ps = (
        _int(booking_doc.get("payment_status"))
        if booking_doc.get("payment_status") not in (None, "")
        else 3
    )
    if ps not in (1, 2, 3):
        raise bad("Invalid payment status.")
    currency = conn.execute(
        "SELECT * FROM ws_currencies WHERE id = ?", (order["id_currency"],)
    ).fetchone()
    if booking_doc.get("currency") not in (None, ""):
        currency = _currency(conn, booking_doc.get("currency"))
        if currency is None:
            raise bad("Please provide valid currency.")
    req_lines = as_list(booking_doc.get("room_types"), "room_type")
    if not req_lines:
        raise bad("Rooms not found in the request.")
    for line in req_lines:
        for r in as_list(line.get("rooms") if isinstance(line, dict) else None, "room"):
            if isinstance(r, dict) and r.get("id_room") not in (None, "", 0, "0"):
                rid = _int(r.get("id_room"))
                if (
                    rid is None
                    or conn.execute("SELECT 1 FROM ws_hotel_rooms WHERE id = ?", (rid,)).fetchone()
                    is None
                ):
                    raise bad("Invalid Id room.")
    with store.tx(conn):
        existing = conn.execute(
            "SELECT * FROM ws_room_bookings WHERE id_order = ? ORDER BY id", (oid,)
        ).fetchall()
        ex_groups: dict[tuple[int, str, str], list[sqlite3.Row]] = {}
        for r in existing:
            ex_groups.setdefault(
                (int(r["id_product"]), r["date_from"][:10], r["date_to"][:10]), []
            ).append(r)
        to_add: list[Any] = []
        kept: set[tuple[int, str, str]] = set()
        for line in req_lines:
            if not isinstance(line, dict):
                raise bad("Invalid room type in the request")
            d1, d2 = _date(line.get("checkin_date")), _date(line.get("checkout_date"))
            key = (
                _int(line.get("id_room_type")) or 0,
                d1.isoformat() if d1 else "",
                d2.isoformat() if d2 else "",
            )
            want = _int(line.get("number_of_rooms")) or 0
            if key in ex_groups and key not in kept:
                kept.add(key)
                have = ex_groups[key]
                # Matched: keep rooms (surplus rooms beyond number_of_rooms are removed — the
                # stand-in's reading of the matching logic), update prices/occupancy of rooms sent
                # with id_room, add the deficit below.
                for extra in have[want:] if want else []:
                    conn.execute("DELETE FROM ws_room_bookings WHERE id = ?", (extra["id"],))
                for spec in as_list(line.get("rooms"), "room"):
                    if not isinstance(spec, dict):
                        continue
                    rid = _int(spec.get("id_room"))
                    match = next(
                        (h for h in have if rid is not None and int(h["id_room"]) == rid), None
                    )
                    if match is None:
                        continue
                    upd: dict[str, Any] = {}
                    if _int(spec.get("adults")) is not None or _int(spec.get("adult")) is not None:
                        upd["adults"] = (
                            _int(spec.get("adults"))
                            if _int(spec.get("adults")) is not None
                            else _int(spec.get("adult"))
                        )
                    if _int(spec.get("child")) is not None:
                        upd["children"] = _int(spec.get("child"))
                    unit = _float(spec.get("unit_price_without_tax"))
                    if unit is not None:
                        old_rate = (
                            float(match["total_price_tax_incl"])
                            / float(match["total_price_tax_excl"])
                            if float(match["total_price_tax_excl"] or 0)
                            else 1.0
                        )
                        tax = _float(spec.get("total_tax"))
                        upd["total_price_tax_excl"] = round(unit, 2)
                        upd["total_price_tax_incl"] = (
                            round(unit + tax, 2) if tax is not None else round(unit * old_rate, 2)
                        )
                    if upd:
                        store.update(conn, "ws_room_bookings", int(match["id"]), upd)
                if want > len(have):
                    extra_line = dict(line)
                    extra_line["number_of_rooms"] = want - len(have)
                    extra_line["rooms"] = [
                        r
                        for r in as_list(line.get("rooms"), "room")
                        if isinstance(r, dict)
                        and _int(r.get("id_room")) not in {int(h["id_room"]) for h in have}
                    ][: want - len(have)]
                    if len(extra_line["rooms"]) != extra_line["number_of_rooms"]:
                        extra_line.pop("rooms")
                    to_add.append(extra_line)
            else:
                to_add.append(line)
        # Unmatched existing rooms are removed from the order (full replacement, docs/external-apis/qloapps.md#booking-update).
        for key, rows in ex_groups.items():
            if key not in kept:
                for r in rows:
                    conn.execute("DELETE FROM ws_room_bookings WHERE id = ?", (r["id"],))
        if to_add:
            plans = _plan_rooms(
                conn,
                id_hotel,
                currency,
                to_add,
                exclude_order=oid,
                taken=set(),
                msg_unavailable="Requested room(s) not available",
            )
            _insert_room_rows(conn, oid, int(cust["id"]), plans)
        _, total_incl = _recompute_totals(conn, oid)
        store.update(
            conn,
            "ws_orders",
            oid,
            dict(id_customer=int(cust["id"]), id_currency=int(currency["id"])),
        )
        remark = str(booking_doc.get("remark") or "")
        if (
            remark
            and conn.execute(
                "SELECT 1 FROM order_messages WHERE id_order = ? AND message = ?", (oid, remark)
            ).fetchone()
            is None
        ):
            conn.execute(
                "INSERT INTO order_messages (id_order, message, date_add) VALUES (?, ?, ?)",
                (oid, remark, store.now_str()),
            )
        pd = _dict(booking_doc.get("price_details"))
        # Quirk (docs/external-apis/qloapps.md#booking-update): the payment step reads `payment_details` (plural).
        pdet = _dict(booking_doc.get("payment_details"))
        tp = _float(pd.get("total_paid")) if pd.get("total_paid") not in (None, "") else None
        paid = float(order["total_paid_real"] or 0)
        if (
            tp is not None
            and abs(tp - paid) > 0.001
            and isinstance(booking_doc.get("payment_detail"), dict)
        ):
            _record_payment(conn, oid, tp - paid, pdet)
            store.update(conn, "ws_orders", oid, dict(total_paid_real=tp))
            paid = tp
        if bs is not None:
            new_state = {3: 4, 4: 5, 2: 2}.get(bs) or _state_for(1, ps, paid, total_incl)
            if new_state != int(order["current_state"] or 0):
                add_history(conn, oid, new_state)
                apply_state(conn, oid, new_state)
    obj = booking_obj(conn, oid)
    assert obj is not None
    return render_booking(obj, ctx)


def overbookings(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Pairs of active booked-room rows on the same room with overlapping stays."""
    rows = conn.execute(
        "SELECT a.id AS a_id, b.id AS b_id, a.id_room, a.id_order AS a_order, b.id_order AS b_order, "
        "a.date_from AS a_from, a.date_to AS a_to, b.date_from AS b_from, b.date_to AS b_to "
        "FROM ws_room_bookings a JOIN ws_room_bookings b ON a.id_room = b.id_room AND a.id < b.id "
        "WHERE a.is_refunded = 0 AND a.is_cancelled = 0 AND b.is_refunded = 0 AND b.is_cancelled = 0 "
        "AND substr(a.date_from, 1, 10) < substr(b.date_to, 1, 10) "
        "AND substr(b.date_from, 1, 10) < substr(a.date_to, 1, 10)"
    ).fetchall()
    return [dict(r) for r in rows]
