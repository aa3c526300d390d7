"""Never double-book, survive lost answers, fail fast when QloApps is down, keep the cache honest.

All through a real in-process gRPC server, the QloApps stand-in (which, like QloApps, checks
availability and inserts without any lock, with a 25 ms window in between) and real Redis.
"""

from __future__ import annotations

import asyncio
import base64
import uuid

import aiohttp
import grpc
import pytest
from hotel.pms.v1 import pms_service_pb2 as pms
from hotel.pms.v1.error_reason import PmsErrorReason
from pms_helpers import d, fresh_stay
from posada_common.errors import error_reason
from prometheus_client import REGISTRY

MADRID = "1"
TWIN, JUNIOR_SUITE = "13", "14"


def guest(tag: str = "") -> pms.GuestDetails:
    return pms.GuestDetails(
        first_name="Lucia",
        last_name="Perez",
        email=f"lucia.{tag or uuid.uuid4().hex[:8]}@example.com",
        phone="+34611222333",
    )


def create_req(room_type: str, ci, co, key: str | None = None) -> pms.CreateBookingRequest:  # type: ignore[no-untyped-def]
    """A booking request; the same key always comes with the same guest (a retry)."""
    key = key or f"rel-{uuid.uuid4().hex}"
    return pms.CreateBookingRequest(
        idempotency_key=key,
        hotel_id=MADRID,
        room_type_id=room_type,
        check_in=d(ci),
        check_out=d(co),
        adults=2,
        guest=guest(key[-8:]),
    )


async def post_booking_directly(sim, room_type: str, ci, co, source: str) -> int:  # type: ignore[no-untyped-def]
    """A booking made at the PMS itself (front desk, another channel), bypassing the adapter."""
    body = {
        "booking": {
            "id_property": 1, "currency": "EUR", "source": source,
            "associations": {
                "customer_detail": {"firstname": "Front", "lastname": "Desk", "email": "desk@example.com", "phone": "+34600000001"},
                "room_types": [{"id_room_type": int(room_type), "checkin_date": ci.isoformat(),
                                "checkout_date": co.isoformat(), "number_of_rooms": 1}],
            },
        }
    }  # fmt: skip
    async with (
        aiohttp.ClientSession(
            headers={
                "Authorization": "Basic " + base64.b64encode(f"{sim.api_key}:".encode()).decode()
            }
        ) as http,
        http.post(f"{sim.api_url}/bookings", params={"output_format": "JSON"}, json=body) as resp,
    ):
        return resp.status


@pytest.mark.slow
async def test_fifty_concurrent_creates_for_the_last_room_make_exactly_one_booking(
    server_factory, stand_in
) -> None:  # type: ignore[no-untyped-def]
    """Two replicas (own Redis pools, own breakers), 25 guests each, one room."""
    ci, co = fresh_stay(2)  # the Junior Suite has a single room
    keys = [f"race-{uuid.uuid4().hex}" for _ in range(50)]
    async with server_factory() as (replica_a, _), server_factory() as (replica_b, _):
        results = await asyncio.gather(
            *(
                (replica_a if i % 2 else replica_b).CreateBooking(
                    create_req(JUNIOR_SUITE, ci, co, key), timeout=30
                )
                for i, key in enumerate(keys)
            ),
            return_exceptions=True,
        )
    booked = [r for r in results if isinstance(r, pms.CreateBookingResponse)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(booked) == 1, [r for r in results if not isinstance(r, pms.CreateBookingResponse)][
        :3
    ]
    assert len(refused) == 49
    assert {r.code() for r in refused} == {grpc.StatusCode.FAILED_PRECONDITION}
    assert sum(stand_in.count_orders(f"posada:{k}") for k in keys) == 1
    assert await stand_in.overbookings() == []


@pytest.mark.slow
async def test_the_stand_in_does_oversell_without_the_adapters_lock(stand_in) -> None:  # type: ignore[no-untyped-def]
    """Control for the test above: the race the lock prevents is real."""
    ci, co = fresh_stay(2)
    statuses = await asyncio.gather(
        *(post_booking_directly(stand_in, JUNIOR_SUITE, ci, co, f"control-{i}") for i in range(5))
    )
    assert statuses.count(200) > 1
    assert await stand_in.overbookings() != []
    await stand_in.reset()  # leave no double-booked room behind for other tests


async def test_create_whose_answer_is_lost_is_recovered_as_one_booking(stub, stand_in) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    key = f"lost-{uuid.uuid4().hex}"
    await stand_in.set_faults(
        drop_connection=True,
        after_commit=True,
        count=1,
        methods=["POST"],
        path_prefix="/api/bookings",
    )
    first = await stub.CreateBooking(create_req(TWIN, ci, co, key), timeout=30)
    assert stand_in.state.faults.affected == 1  # the answer really was lost
    assert not first.replayed
    retried = await stub.CreateBooking(create_req(TWIN, ci, co, key), timeout=30)
    assert retried.replayed and retried.booking.booking_id == first.booking.booking_id
    assert stand_in.count_orders(f"posada:{key}") == 1


async def test_create_that_times_out_is_unavailable_and_the_retry_books_once(
    server_factory, stand_in
) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    key = f"slow-{uuid.uuid4().hex}"
    async with server_factory(pms_write_timeout_seconds=0.5) as (stub, _parts):
        await stand_in.set_faults(
            timeout=True, timeout_s=2, count=1, methods=["POST"], path_prefix="/api/bookings"
        )
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CreateBooking(create_req(TWIN, ci, co, key), timeout=30)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert stand_in.count_orders(f"posada:{key}") == 0
        retry = await stub.CreateBooking(create_req(TWIN, ci, co, key), timeout=30)
        assert retry.booking.booking_id
        again = await stub.CreateBooking(create_req(TWIN, ci, co, key), timeout=30)
        assert again.replayed and again.booking.booking_id == retry.booking.booking_id
        assert stand_in.count_orders(f"posada:{key}") == 1


async def test_writes_are_never_retried_but_reads_are(stub, stand_in) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    booking = (await stub.CreateBooking(create_req(TWIN, ci, co), timeout=30)).booking
    # Two failing GETs: the read retries (3 attempts) absorb them.
    await stand_in.set_faults(status=503, count=2, methods=["GET"], path_prefix="/api/bookings")
    got = await stub.GetBooking(pms.GetBookingRequest(booking_id=booking.booking_id), timeout=30)
    assert got.booking.booking_id == booking.booking_id and stand_in.state.faults.affected == 2
    # A failing POST is tried once (the 503 here is answered before anything is written).
    key = f"once-{uuid.uuid4().hex}"
    await stand_in.set_faults(status=503, methods=["POST"], path_prefix="/api/bookings")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateBooking(create_req(TWIN, *fresh_stay(2), key), timeout=30)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert stand_in.state.faults.affected == 1
    assert stand_in.count_orders(f"posada:{key}") == 0


def breaker_gauge() -> float | None:
    return REGISTRY.get_sample_value("posada_pms_breaker_state", {"breaker": "qloapps"})


async def test_breaker_opens_fails_fast_half_opens_and_recovers(server_factory, stand_in) -> None:  # type: ignore[no-untyped-def]
    async with server_factory(
        pms_breaker_fail_max=3, pms_breaker_reset_seconds=1.0, pms_read_retries=0
    ) as (stub, parts):
        await stand_in.set_faults(status=503)

        def ask() -> object:
            ci, co = fresh_stay(2)  # uncached every time
            return stub.CheckAvailability(
                pms.CheckAvailabilityRequest(
                    hotel_id=MADRID, check_in=d(ci), check_out=d(co), adults=2
                ),
                timeout=10,
            )

        for _ in range(3):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await ask()
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert await parts.breaker.refresh() == "open"
        assert breaker_gauge() == 2
        reached = stand_in.state.faults.affected
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await ask()
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert error_reason(info.value) == PmsErrorReason.PMS_UNAVAILABLE
        assert stand_in.state.faults.affected == reached  # QloApps was not even asked

        await stand_in.clear_faults()  # QloApps is back
        # Fail fast until the (short) reset timeout lets one trial through; it closes the
        # circuit. Bounded: 100 tries, 0.05 s apart.
        for _ in range(100):
            try:
                resp = await ask()
                break
            except grpc.aio.AioRpcError as exc:
                assert error_reason(exc) == PmsErrorReason.PMS_UNAVAILABLE
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the breaker never let a trial call through after QloApps recovered")
        assert resp.offers
        assert await parts.breaker.refresh() == "closed"
        assert breaker_gauge() == 0


async def test_slow_or_unreachable_pms_is_unavailable_within_the_timeout(
    server_factory, stand_in
) -> None:  # type: ignore[no-untyped-def]
    async with server_factory(
        pms_timeout_seconds=0.3, pms_read_retries=1, pms_breaker_fail_max=100
    ) as (stub, _):
        await stand_in.set_faults(latency_ms=2000, path_prefix="/api/hotel_ari")
        ci, co = fresh_stay(2)
        # QloApps would answer (successfully) after 2 s: UNAVAILABLE proves that pms gave up
        # after its own 0.3 s timeout and retry, long before the caller's 10 s deadline.
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CheckAvailability(
                pms.CheckAvailabilityRequest(
                    hotel_id=MADRID, check_in=d(ci), check_out=d(co), adults=2
                ),
                timeout=10,
            )
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        await stand_in.set_faults(drop_connection=True, path_prefix="/api/bookings")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetBooking(pms.GetBookingRequest(booking_id="1"), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def cache_count(result: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "posada_pms_cache_requests_total", {"kind": "availability", "result": result}
        )
        or 0.0
    )


async def test_availability_cache_is_invalidated_by_bookings(stub, stand_in) -> None:  # type: ignore[no-untyped-def]
    ci, co = fresh_stay(2)
    req = pms.CheckAvailabilityRequest(
        hotel_id=MADRID, check_in=d(ci), check_out=d(co), adults=2, room_type_id=TWIN
    )

    async def twin_rooms_left() -> int:
        offers = (await stub.CheckAvailability(req, timeout=10)).offers
        return offers[0].rooms_left if offers else 0

    misses, hits = cache_count("miss"), cache_count("hit")
    assert await twin_rooms_left() == 2
    assert await twin_rooms_left() == 2
    assert (cache_count("miss") - misses, cache_count("hit") - hits) == (1, 1)
    # A booking made at the front desk is not seen until the short TTL runs out: proof that
    # the answer above really comes from the cache...
    assert await post_booking_directly(stand_in, TWIN, ci, co, "front-desk") == 200
    assert await twin_rooms_left() == 2
    # ...and a booking through the adapter invalidates it at once.
    await stub.CreateBooking(create_req(TWIN, ci, co), timeout=30)
    assert await twin_rooms_left() == 0


async def test_the_key_in_the_bookings_source_is_enough_to_replay(stub, stand_in, redis) -> None:  # type: ignore[no-untyped-def]
    """Redis only mirrors the key; the order's `source` in QloApps is the record of truth."""
    ci, co = fresh_stay(2)
    key = f"src-{uuid.uuid4().hex}"
    first = await stub.CreateBooking(create_req(TWIN, ci, co, key), timeout=30)
    await redis.delete(f"pms:idem:{key}")  # Redis lost it (flush, failover, another region)
    again = await stub.CreateBooking(create_req(TWIN, ci, co, key), timeout=30)
    assert again.replayed and again.booking.booking_id == first.booking.booking_id
    assert stand_in.count_orders(f"posada:{key}") == 1


async def test_without_redis_availability_still_answers_but_bookings_are_refused(
    server_factory, stand_in
) -> None:  # type: ignore[no-untyped-def]
    """Degrade, don't fail: the cache is optional; the booking lock is not."""
    from posada_common.testing import closed_port

    with closed_port() as port:  # a Redis address that refuses connections
        await _availability_without_redis(server_factory, stand_in, f"redis://127.0.0.1:{port}/0")


async def _availability_without_redis(server_factory, stand_in, dead_redis: str) -> None:  # type: ignore[no-untyped-def]
    async with server_factory(redis_url=dead_redis) as (stub, _parts):
        ci, co = fresh_stay(2)
        offers = await stub.CheckAvailability(
            pms.CheckAvailabilityRequest(
                hotel_id=MADRID, check_in=d(ci), check_out=d(co), adults=2
            ),
            timeout=30,
        )
        assert offers.offers
        key = f"noredis-{uuid.uuid4().hex}"
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CreateBooking(create_req(TWIN, ci, co, key), timeout=30)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert stand_in.count_orders(f"posada:{key}") == 0


async def test_a_wrong_api_key_is_unavailable_and_does_not_trip_the_breaker(server_factory) -> None:  # type: ignore[no-untyped-def]
    async with server_factory(pms_api_key="WRONGKEY" * 4, pms_breaker_fail_max=2) as (stub, parts):
        for _ in range(3):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.ListHotels(pms.ListHotelsRequest(), timeout=10)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "credentials" in (info.value.details() or "")
        assert await parts.breaker.refresh() == "closed"


async def test_a_short_caller_deadline_gets_a_definite_answer_and_the_retry_replays(
    stub, stand_in
) -> None:  # type: ignore[no-untyped-def]
    """QloApps commits slowly (2 s) while the caller allows 1.5 s: we give up before the caller
    does and say UNAVAILABLE; once QloApps committed, the retry with the same key replays."""
    ci, co = fresh_stay(2)
    key = f"deadline-{uuid.uuid4().hex}"
    await stand_in.set_faults(
        latency_ms=2000, count=1, methods=["POST"], path_prefix="/api/bookings"
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateBooking(create_req(TWIN, ci, co, key), timeout=1.5)
    # Our own definite answer inside the caller's deadline, not the caller's DEADLINE_EXCEEDED.
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    for _ in range(100):  # QloApps finishes the request it received (bounded: 10 s)
        if stand_in.count_orders(f"posada:{key}") == 1:
            break
        await asyncio.sleep(0.1)
    retry = await stub.CreateBooking(create_req(TWIN, ci, co, key), timeout=30)
    assert stand_in.count_orders(f"posada:{key}") == 1
    assert retry.booking.idempotency_key == key
