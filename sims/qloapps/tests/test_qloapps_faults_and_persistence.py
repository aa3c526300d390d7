"""Fault injection, the unlocked check-then-insert window, admin endpoints and persistence."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import aiohttp
import pytest
from posada_sim_qloapps import DEV_API_KEY, running_server
from posada_sim_qloapps.testing import basic_auth_header, booking_body

J = {"output_format": "JSON"}
D1 = date.today() + timedelta(days=50)
D2 = D1 + timedelta(days=2)


async def test_latency_is_added_to_matching_requests_only(sim, http):
    faults = await sim.set_faults(latency_ms=300, path_prefix="/api/hotel_ari")
    async with http.get("api/hotels", params=J) as r:
        assert r.status == 200
    assert faults.affected == 0  # not matched: no latency added
    t0 = time.perf_counter()
    async with http.get("api/hotel_ari", params={**J, "schema": "blank"}) as r:
        assert r.status == 200
    assert faults.affected == 1
    assert time.perf_counter() - t0 >= 0.3  # a lower bound: the latency was really waited


async def test_injected_status_with_count_then_recovery(sim, http):
    await sim.set_faults(status=503, count=2)
    for _ in range(2):
        async with http.get("api/hotels", params=J) as r:
            assert r.status == 503
            assert "errors" in await r.json()
    async with http.get("api/hotels", params=J) as r:
        assert r.status == 200
    assert sim.state.faults.remaining == 0 and sim.state.faults.affected == 2


async def test_error_rate_affects_a_fraction(sim, http):
    await sim.set_faults(status=500, error_rate=0.5)
    statuses = []
    for _ in range(40):
        async with http.get("api/hotels", params=J) as r:
            statuses.append(r.status)
    assert 0 < statuses.count(500) < 40


async def test_drop_before_processing_writes_nothing(sim, http):
    await sim.set_faults(
        drop_connection=True, methods=["POST"], path_prefix="/api/bookings", count=1
    )
    with pytest.raises(aiohttp.ClientError):
        async with http.post(
            "api/bookings", params=J, json=booking_body(12, D1, D2, source="agent:drop1")
        ) as r:
            await r.read()
    assert sim.count_orders("agent:drop1") == 0


async def test_drop_after_commit_loses_the_answer_but_keeps_the_booking(sim, http):
    await sim.set_faults(
        drop_connection=True,
        after_commit=True,
        methods=["POST"],
        path_prefix="/api/bookings",
        count=1,
    )
    with pytest.raises(aiohttp.ClientError):
        async with http.post(
            "api/bookings", params=J, json=booking_body(12, D1, D2, source="agent:lost")
        ) as r:
            await r.read()
    # The client can find the order by its token and must not create it again.
    async with http.get(
        "api/orders", params={**J, "filter[source]": "[agent:lost]", "display": "[id,source]"}
    ) as r:
        assert r.status == 200
        assert len((await r.json())["orders"]) == 1


async def test_timeout_hangs_until_the_client_gives_up(sim):
    await sim.set_faults(timeout=True, timeout_s=2.0, count=1)
    async with aiohttp.ClientSession(headers=basic_auth_header(DEV_API_KEY)) as s:
        t0 = time.perf_counter()
        with pytest.raises(asyncio.TimeoutError):
            async with s.get(
                sim.api_url + "/hotels", params=J, timeout=aiohttp.ClientTimeout(total=0.5)
            ) as r:
                await r.read()
        assert time.perf_counter() - t0 >= 0.45  # the client's timeout fired, the stand-in hung
        assert sim.state.faults.affected == 1


async def test_admin_endpoints_over_http(sim):
    async with aiohttp.ClientSession() as s:
        async with s.get(sim.base_url + "/__admin/health") as r:
            assert (await r.json())["status"] == "ok"
        async with s.post(sim.base_url + "/__admin/faults", json={"status": 502, "count": 1}) as r:
            assert (await r.json())["remaining"] == 1
        async with s.get(
            sim.api_url + "/hotels", params=J, headers=basic_auth_header(DEV_API_KEY)
        ) as r:
            assert r.status == 502
        async with s.post(sim.base_url + "/__admin/faults", json={"bogus": 1}) as r:
            assert r.status == 400
        async with s.delete(sim.base_url + "/__admin/faults") as r:
            assert (await r.json())["status"] is None
        async with s.post(sim.base_url + "/__admin/config", json={"race_window_ms": 0}) as r:
            assert (await r.json())["race_window_ms"] == 0
        async with s.post(
            sim.api_url + "/bookings",
            params=J,
            json=booking_body(12, D1, D2),
            headers=basic_auth_header(DEV_API_KEY),
        ) as r:
            assert r.status == 200
        assert sim.count_orders() == 1
        async with s.post(sim.base_url + "/__admin/reset") as r:
            assert r.status == 200
        assert sim.count_orders() == 0
        async with s.get(sim.base_url + "/__admin/overbookings") as r:
            assert await r.json() == []


async def _race(sim, n: int) -> list[int]:
    async with aiohttp.ClientSession(headers=basic_auth_header(DEV_API_KEY)) as s:

        async def one(i: int) -> int:
            body = booking_body(20, D1, D2, hotel=2, currency="ARS", source=f"agent:race-{i}")
            async with s.post(sim.api_url + "/bookings", params=J, json=body) as r:
                return r.status

        return await asyncio.gather(*(one(i) for i in range(n)))


async def test_unlocked_window_lets_concurrent_creates_oversell(sim):
    # Like QloApps: availability check, then (no lock) the insert. The adapter must lock.
    statuses = await _race(sim, 10)
    assert statuses.count(200) > 1
    assert await sim.overbookings()


async def test_without_the_window_the_last_room_is_sold_once(sim):
    await sim.set_race_window(0)
    statuses = await _race(sim, 10)
    assert statuses.count(200) == 1 and statuses.count(400) == 9
    assert await sim.overbookings() == []


async def test_bookings_persist_across_restart(tmp_path):
    db = tmp_path / "persist.sqlite3"
    async with (
        running_server(db_path=db) as sim,
        aiohttp.ClientSession(headers=basic_auth_header(DEV_API_KEY)) as s,
        s.post(
            sim.api_url + "/bookings",
            params=J,
            json=booking_body(19, D1, D2, hotel=2, currency="ARS"),
        ) as r,
    ):
        assert r.status == 200
        bid = (await r.json())["booking"]["id"]
    async with running_server(db_path=db, api_key="K" * 32) as sim:
        async with (
            aiohttp.ClientSession(headers=basic_auth_header("K" * 32)) as s,
            s.get(sim.api_url + f"/bookings/{bid}", params=J) as r,
        ):
            assert r.status == 200
            assert (await r.json())["booking"]["associations"]["room_types"][0][
                "id_room_type"
            ] == 19
        # The demo data was not seeded twice.
        assert sim.state.conn.execute("SELECT COUNT(*) FROM ws_hotels").fetchone()[0] == 2
