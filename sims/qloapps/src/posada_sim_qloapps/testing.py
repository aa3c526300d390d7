"""Helpers to run the stand-in in-process (tests) on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from . import bookings, store
from .app import STATE_KEY, State, create_app
from .faults import Faults
from .seed import DEV_API_KEY


@dataclass
class SimServer:
    app: web.Application
    base_url: str  # "http://127.0.0.1:PORT"; the API lives under base_url + "/api/"
    api_key: str
    port: int

    @property
    def state(self) -> State:
        return self.app[STATE_KEY]

    @property
    def api_url(self) -> str:
        return self.base_url + "/api"

    async def set_faults(self, **kw: Any) -> Faults:
        self.state.faults = Faults.from_json(kw)
        return self.state.faults

    async def clear_faults(self) -> None:
        self.state.faults = Faults()

    async def set_race_window(self, ms: int) -> None:
        self.state.race_window_ms = max(0, int(ms))

    async def reset(self) -> None:
        store.reset_store(self.state.conn, self.api_key)
        self.state.faults = Faults()

    async def overbookings(self) -> list[dict[str, Any]]:
        return bookings.overbookings(self.state.conn)

    def count_orders(self, source: str | None = None) -> int:
        if source is None:
            return int(self.state.conn.execute("SELECT COUNT(*) FROM ws_orders").fetchone()[0])
        return int(
            self.state.conn.execute(
                "SELECT COUNT(*) FROM ws_orders WHERE source = ?", (source,)
            ).fetchone()[0]
        )


@asynccontextmanager
async def running_server(
    db_path: str | Path,
    api_key: str = DEV_API_KEY,
    race_window_ms: int = 25,
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[SimServer]:
    """Run the stand-in on ``host:port`` (0 = a free port) until the block exits."""
    app = create_app(db_path, api_key, race_window_ms=race_window_ms)
    # A short shutdown timeout so a request hung by a `timeout` fault cannot stall the test teardown.
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    real_port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield SimServer(
            app=app, base_url=f"http://{host}:{real_port}", api_key=api_key, port=real_port
        )
    finally:
        await runner.cleanup()


def basic_auth_header(key: str) -> dict[str, str]:
    """``Authorization: Basic base64("KEY:")`` — the key as user name, empty password (docs/external-apis/qloapps.md#authentication)."""
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


# --- request builders (shapes of docs/external-apis/qloapps.md#availability-search and docs/external-apis/qloapps.md#booking-create) ---


def future_monday(weeks: int = 3) -> date:
    """A Monday a few weeks ahead (out of every seasonal rule's way is not guaranteed)."""
    d = date.today() + timedelta(weeks=weeks)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def booking_body(
    room_type: int,
    d_from: date,
    d_to: date,
    *,
    hotel: int = 1,
    currency: str = "EUR",
    rooms: int = 1,
    source: str = "agent:test",
    email: str = "guest@example.com",
    **extra,
) -> dict:
    return {
        "booking": {
            "id_property": hotel,
            "currency": currency,
            "booking_status": 1,
            "payment_status": 3,
            "source": source,
            **extra,
            "associations": {
                "customer_detail": {
                    "firstname": "Lucía",
                    "lastname": "Fernández",
                    "email": email,
                    "phone": "+34611222333",
                },
                "payment_detail": {
                    "payment_type": "pay at hotel",
                    "payment_method": "Pay at hotel",
                },
                "room_types": [
                    {
                        "id_room_type": room_type,
                        "checkin_date": d_from.isoformat(),
                        "checkout_date": d_to.isoformat(),
                        "number_of_rooms": rooms,
                    }
                ],
            },
        }
    }


def ari_xml(hotel: int, d_from: date, d_to: date, occupancies=((2, 0),), extra: str = "") -> str:
    occ = "".join(
        f"<room_occupancy><adults>{a}</adults><children>{c}</children></room_occupancy>"
        for a, c in occupancies
    )
    assoc = (
        f"<associations><room_occupancies>{occ}</room_occupancies></associations>"
        if occupancies
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><qloapps><hotel_ari>'
        f"<id_hotel>{hotel}</id_hotel><date_from>{d_from}</date_from><date_to>{d_to}</date_to>"
        f"{extra}{assoc}</hotel_ari></qloapps>"
    )
