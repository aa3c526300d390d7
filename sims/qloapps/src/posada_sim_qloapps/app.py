"""The aiohttp application: routing, authentication, format negotiation, faults, admin."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import difflib
import hashlib
import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from . import ari, bookings, generic, store
from .faults import Faults
from .render import (
    Ctx,
    EmptyNotFound,
    WsError,
    attr,
    error_response,
    json_response,
    wants_json,
    xml_response,
)
from .schema import ALL_RESOURCES, GENERIC, SPECIFIC, Resource

log = logging.getLogger("posada_sim_qloapps")

REALM = "Welcome to QloApps Webservice, please enter the authentication key as the login. No password required."
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")


@dataclass
class State:
    conn: sqlite3.Connection
    api_key: str
    db_path: str
    faults: Faults = field(default_factory=Faults)
    # QloApps checks availability, builds the cart and only then writes the order, with no lock:
    # this window between the check and the insert lets concurrent creates oversell, as a real
    # QloApps may under races. 0 makes check+insert atomic (the event loop never yields).
    race_window_ms: int = 25
    webservice_enabled: bool = True
    started_at: float = field(default_factory=time.time)


STATE_KEY: web.AppKey[State] = web.AppKey("state", State)


# --- hooks for the generic engine -----------------------------------------------------------


class Hooks:
    @staticmethod
    def before_write(
        conn: sqlite3.Connection,
        res: Resource,
        method: str,
        values: dict[str, Any],
        existing: sqlite3.Row | None,
    ) -> None:
        if res.name == "customers":
            if (
                "email" in values
                and values["email"]
                and not bookings.EMAIL_RE.match(values["email"])
            ):
                raise WsError(
                    400, (85, 'Validation error: "Property Customer->email is not valid"')
                )
            pw = values.get("passwd")
            if pw:
                values["passwd"] = generic.hash_password(pw)
            elif method == "PUT" and existing is not None:
                # required on POST only (docs/external-apis/qloapps.md#generic-resources)
                values["passwd"] = existing["passwd"]
            row = conn.execute(
                "SELECT value FROM ws_configurations WHERE name = 'PS_ONE_PHONE_AT_LEAST'"
            ).fetchone()
            if row and row["value"] == "1" and not values.get("phone"):
                raise WsError(400, (41, 'parameter "phone" required'))
            if method == "POST":
                values["secure_key"] = generic.new_secure_key()
                values["last_passwd_gen"] = store.now_str()
                values.setdefault("active", 1)
        elif res.name == "hotel_rooms" and values.get("id_product"):
            rt = conn.execute(
                "SELECT id_hotel FROM ws_room_types WHERE id = ?", (values["id_product"],)
            ).fetchone()
            if rt is None:
                raise WsError(
                    400,
                    (
                        85,
                        'Validation error: "Property HotelRoomInformation->id_product is not valid"',
                    ),
                )
            values["id_hotel"] = rt["id_hotel"]
        elif res.name == "order_histories":
            if (
                conn.execute(
                    "SELECT 1 FROM ws_orders WHERE id = ?", (values.get("id_order") or 0,)
                ).fetchone()
                is None
            ):
                raise WsError(
                    400, (85, 'Validation error: "Property OrderHistory->id_order is not valid"')
                )
            if (
                conn.execute(
                    "SELECT 1 FROM ws_order_states WHERE id = ?",
                    (values.get("id_order_state") or 0,),
                ).fetchone()
                is None
            ):
                raise WsError(
                    400,
                    (85, 'Validation error: "Property OrderHistory->id_order_state is not valid"'),
                )

    @staticmethod
    def after_write(
        conn: sqlite3.Connection, res: Resource, method: str, rid: int, existing: sqlite3.Row | None
    ) -> None:
        if res.name == "order_histories":
            h = conn.execute("SELECT * FROM ws_order_histories WHERE id = ?", (rid,)).fetchone()
            bookings.apply_state(conn, int(h["id_order"]), int(h["id_order_state"]))
        elif res.name == "orders" and existing is not None:
            o = conn.execute("SELECT current_state FROM ws_orders WHERE id = ?", (rid,)).fetchone()
            if int(o["current_state"] or 0) != int(existing["current_state"] or 0):
                bookings.add_history(conn, rid, int(o["current_state"]))
                bookings.apply_state(conn, rid, int(o["current_state"]))


# --- middlewares ---------------------------------------------------------------------------


def _drop(request: web.Request) -> None:
    tr = request.transport
    if tr is not None:
        # abort() closes the socket without a FIN-terminated HTTP answer: the client sees the
        # connection reset / server disconnected.
        tr.abort()


class Dropped(Exception):
    pass


@web.middleware
async def headers_mw(request: web.Request, handler: Any) -> web.StreamResponse:
    t0 = time.perf_counter()
    resp = await handler(request)
    if request.path.startswith("/api"):
        resp.headers["Access-Time"] = str(int(time.time()))
        resp.headers["X-Powered-By"] = "PrestaShop Webservice"
        resp.headers["PSWS-Version"] = "1.6.1.23"
        resp.headers["Execution-Time"] = f"{time.perf_counter() - t0:.3f}"
        body = getattr(resp, "body", None)
        if isinstance(body, bytes | bytearray):
            sha = hashlib.sha1(bytes(body)).hexdigest()
            resp.headers["Content-Sha1"] = sha
            if request.headers.get("Local-Content-Sha1") == sha:
                return web.Response(
                    status=304,
                    headers={
                        k: v
                        for k, v in resp.headers.items()
                        if k.lower() not in ("content-type", "content-length")
                    },
                )
    return resp


@web.middleware
async def faults_mw(request: web.Request, handler: Any) -> web.StreamResponse:
    st = request.app[STATE_KEY]
    f = st.faults
    if not f.take(request.method, request.path):
        return await handler(request)
    if f.latency_ms:
        await asyncio.sleep(f.latency_ms / 1000.0)
    if f.timeout:
        await asyncio.sleep(f.timeout_s)
        _drop(request)
        raise Dropped()
    if f.drop_connection and not f.after_commit:
        _drop(request)
        raise Dropped()
    if f.status:
        err = WsError(int(f.status), (0, f"[stand-in] injected fault: HTTP {f.status}"))
        return error_response(err, wants_json(request))
    resp = await handler(request)
    if f.drop_connection and f.after_commit:
        _drop(request)
        raise Dropped()
    return resp


@web.middleware
async def dropped_mw(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except Dropped:
        # Nothing can be written any more; return a response aiohttp will fail to send quietly.
        resp = web.Response(status=499)
        resp.force_close()
        return resp


# --- auth ----------------------------------------------------------------------------------


def _authenticate(
    request: web.Request, st: State, as_json: bool
) -> dict[str, list[str]] | web.Response:
    key: str | None = None
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:].strip()).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            decoded = ""
        user = decoded.split(":", 1)[0]
        if user != "":
            key = user
    if key is None and "ws_key" in request.query:
        key = request.query["ws_key"]
    if key is None:
        return web.Response(
            status=401,
            text="401 Unauthorized",
            headers={"WWW-Authenticate": f'Basic realm="{REALM}"'},
        )
    if key == "":
        raise WsError(401, (17, "Authentication key is empty"))
    if key != st.api_key and len(key) != 32:
        # Real keys are exactly 32 characters; the configured key is accepted whatever its
        # length so a short dev PMS_API_KEY still works.
        raise WsError(401, (18, "Invalid authentication key format"))
    row = st.conn.execute("SELECT * FROM ws_keys WHERE key = ?", (key,)).fetchone()
    if row is None or not int(row["active"]):
        raise WsError(
            401,
            (20, "Authentification key is not active"),
            (21, "No permission for this authentication key"),
        )
    perms: dict[str, list[str]] = json.loads(row["permissions"])
    if "*" in perms:
        perms = {r: perms["*"] for r in ALL_RESOURCES}
    return perms


# --- api handler ---------------------------------------------------------------------------


def _ctx(request: web.Request, as_json: bool) -> Ctx:
    return Ctx(json=as_json, base_url=f"{request.scheme}://{request.host}")


def _index(perms: dict[str, list[str]], ctx: Ctx) -> web.Response:
    names = sorted(r for r, m in perms.items() if m and r in ALL_RESOURCES)
    if ctx.json:
        return json_response(names)
    items = []
    for n in names:
        m = perms[n]
        desc = GENERIC[n].description if n in GENERIC else SPECIFIC[n][1]
        flags = " ".join(
            f'{x.lower()}="{"true" if x in m else "false"}"'
            for x in ("GET", "PUT", "POST", "DELETE", "HEAD")
        )
        href = attr(f"{ctx.base_url}/api/{n}")
        items.append(f"<{n} xlink:href={href} {flags}><description>{desc}</description></{n}>")
    return xml_response('<api shopName="Posada Hotels">' + "".join(items) + "</api>")


async def api_handler(request: web.Request) -> web.StreamResponse:
    st = request.app[STATE_KEY]
    as_json = wants_json(request)
    try:
        return await _api(request, st, as_json)
    except WsError as err:
        return error_response(err, as_json)
    except EmptyNotFound:
        return web.Response(status=404, body=b"")
    except Dropped:
        raise
    except Exception as exc:  # pragma: no cover - shown as a PHP-style 500
        log.exception("internal error")
        return error_response(WsError(500, (46, f"Internal error: {exc}")), as_json)


async def _api(request: web.Request, st: State, as_json: bool) -> web.StreamResponse:
    method = request.method.upper()
    if method == "POST" and request.query.get("ps_method", "").upper() in ("PUT", "DELETE"):
        method = request.query["ps_method"].upper()
    if method not in METHODS:
        raise WsError(405, (23, f"Method {method} is not valid"))
    if not st.webservice_enabled:
        raise WsError(
            503,
            (
                22,
                "The PrestaShop webservice is disabled. Please activate it in the PrestaShop Back Office",
            ),
        )
    perms = _authenticate(request, st, as_json)
    if isinstance(perms, web.Response):
        return perms
    ctx = _ctx(request, as_json)
    tail = request.match_info.get("tail", "").strip("/")
    parts = [p for p in tail.split("/") if p]
    if not parts:
        if method not in ("GET", "HEAD"):
            raise WsError(405, (23, f"Method {method} is not valid"))
        return _index(perms, ctx)
    name, rid = parts[0], (parts[1] if len(parts) > 1 else None)
    if name not in ALL_RESOURCES:
        close = difflib.get_close_matches(name, ALL_RESOURCES, n=1)
        hint = f' Did you mean: "{close[0]}"?' if close else ""
        raise WsError(
            400,
            (
                27,
                f'Resource of type "{name}" does not exists.{hint} The full list is: "'
                + '", "'.join(ALL_RESOURCES)
                + '"',
            ),
        )
    if name not in perms or not perms[name]:
        raise WsError(
            401, (26, f'Resource of type "{name}" is not allowed with this authentication key')
        )
    if method not in perms[name]:
        raise WsError(405, (25, f"Method {method} is not allowed for this authentication key"))
    body = await request.read() if method in ("POST", "PUT") else b""
    conn = st.conn

    if name == "hotel_ari":
        if method in ("GET", "HEAD") and "schema" in request.query:
            return xml_response(
                "<hotel_ari><id_hotel></id_hotel><date_from></date_from><date_to></date_to>"
                "<id_room_type></id_room_type><get_available_rooms></get_available_rooms>"
                "<get_partial_available_rooms></get_partial_available_rooms>"
                "<get_booked_rooms></get_booked_rooms><get_unavailable_rooms></get_unavailable_rooms>"
                "<date_wise_breakdown></date_wise_breakdown><associations><room_occupancies>"
                "<room_occupancy><adults></adults><children></children></room_occupancy>"
                "</room_occupancies></associations></hotel_ari>"
            )
        if method != "POST":
            raise WsError(405, (23, f"Method {method} is not valid for hotel_ari"))
        return ari.handle(conn, body, ctx)

    if name == "bookings":
        if method == "DELETE":
            raise WsError(405, (101, "Method DELETE is not allowed for bookings"))
        if method in ("GET", "HEAD"):
            return bookings.get(conn, rid, request.query, ctx)
        if method == "POST":
            if rid is not None:
                raise WsError(400, (404, "id is forbidden when adding a new resource"))
            plan = bookings.prepare_create(conn, bookings.parse_body(body))
            if st.race_window_ms > 0:
                await asyncio.sleep(st.race_window_ms / 1000.0)
            order_id, notice = bookings.commit_create(conn, plan)
            if notice:
                # The order exists, but a PHP notice is appended as a 500 error (docs/external-apis/qloapps.md#booking-create).
                return error_response(WsError(500, bookings.NOTICE), as_json)
            obj = bookings.booking_obj(conn, order_id)
            assert obj is not None
            return bookings.render_booking(obj, ctx, 200)
        return bookings.put(conn, body, ctx)

    res = GENERIC[name]
    if method not in res.methods:
        raise WsError(405, (101, f"Method {method} is not allowed for this resource"))
    if method in ("GET", "HEAD"):
        return generic.get(conn, res, rid, request.query, ctx)
    if method == "DELETE":
        return generic.delete(conn, res, rid, request.query)
    if method == "POST" and rid is not None:
        raise WsError(400, (91, "id is forbidden when adding a new resource"))
    if method == "PUT" and rid is None and b"<id>" not in body:
        raise WsError(400, (90, "id is required when modifying a resource"))
    return generic.write(conn, res, rid, body, ctx, method, Hooks)


# --- admin -----------------------------------------------------------------------------------


async def admin_health(request: web.Request) -> web.Response:
    st = request.app[STATE_KEY]
    orders = st.conn.execute("SELECT COUNT(*) AS n FROM ws_orders").fetchone()["n"]
    return web.json_response(
        {
            "status": "ok",
            "db": st.db_path,
            "orders": orders,
            "uptime_s": round(time.time() - st.started_at, 1),
            "faults_active": st.faults.active,
        }
    )


async def admin_reset(request: web.Request) -> web.Response:
    st = request.app[STATE_KEY]
    store.reset_store(st.conn, st.api_key)
    st.faults = Faults()
    return web.json_response({"status": "reset"})


async def admin_faults(request: web.Request) -> web.Response:
    st = request.app[STATE_KEY]
    if request.method == "POST":
        try:
            data = await request.json()
            st.faults = Faults.from_json(data if isinstance(data, dict) else {})
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
    elif request.method == "DELETE":
        st.faults = Faults()
    return web.json_response(st.faults.to_json())


async def admin_config(request: web.Request) -> web.Response:
    st = request.app[STATE_KEY]
    if request.method == "POST":
        data = await request.json()
        if "race_window_ms" in data:
            st.race_window_ms = max(0, int(data["race_window_ms"]))
        if "webservice_enabled" in data:
            st.webservice_enabled = bool(data["webservice_enabled"])
    return web.json_response(
        {"race_window_ms": st.race_window_ms, "webservice_enabled": st.webservice_enabled}
    )


async def admin_overbookings(request: web.Request) -> web.Response:
    st = request.app[STATE_KEY]
    return web.json_response(bookings.overbookings(st.conn))


def create_app(db_path: str | Path, api_key: str, race_window_ms: int = 25) -> web.Application:
    """Build the stand-in application (SQLite at ``db_path``, seeded on first use)."""
    conn = store.open_store(db_path, api_key)
    app = web.Application(
        middlewares=[dropped_mw, headers_mw, faults_mw], client_max_size=4 * 1024 * 1024
    )
    app[STATE_KEY] = State(
        conn=conn, api_key=api_key, db_path=str(db_path), race_window_ms=race_window_ms
    )
    app.router.add_route("*", "/api", api_handler)
    app.router.add_route("*", "/api/{tail:.*}", api_handler)
    app.router.add_get("/__admin/health", admin_health)
    app.router.add_post("/__admin/reset", admin_reset)
    app.router.add_route("*", "/__admin/faults", admin_faults)
    app.router.add_route("*", "/__admin/config", admin_config)
    app.router.add_get("/__admin/overbookings", admin_overbookings)

    async def _close(app: web.Application) -> None:
        with contextlib.suppress(sqlite3.Error):
            app[STATE_KEY].conn.close()

    app.on_cleanup.append(_close)
    return app
