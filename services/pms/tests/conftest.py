"""Fixtures of the pms tests: real Redis (root `redis_url`), a clean `pms:*` namespace per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from posada_common.testing import trusted_channel


async def _clear(client: aioredis.Redis) -> None:
    keys = [k async for k in client.scan_iter(match="pms:*", count=500)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=5, max_connections=200)
    await _clear(client)
    try:
        yield client
    finally:
        await _clear(client)
        await client.aclose()


# --- the QloApps stand-in and the pms service built on it ----------------------------------

import contextlib  # noqa: E402

from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc  # noqa: E402


@pytest.fixture(scope="session")
async def sim(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[object]:
    from posada_sim_qloapps import running_server

    async with running_server(db_path=tmp_path_factory.mktemp("qloapps") / "q.sqlite3") as server:
        yield server


@pytest.fixture
async def stand_in(sim: object) -> AsyncIterator[object]:
    await sim.clear_faults()  # type: ignore[attr-defined]
    yield sim
    await sim.clear_faults()  # type: ignore[attr-defined]


def pms_settings(sim: object, redis_url: str, **kw: object):  # type: ignore[no-untyped-def]
    from posada_pms.settings import PmsSettings

    opts: dict = {
        "grpc_port": 0,
        "metrics_port": 0,
        "redis_url": redis_url,
        "pms_base_url": sim.base_url,  # type: ignore[attr-defined]
        "pms_api_key": sim.api_key,  # type: ignore[attr-defined]
        "pms_timeout_seconds": 2.0,
        "pms_write_timeout_seconds": 3.0,
        "pms_retry_backoff_seconds": 0.02,
        "pms_breaker_fail_max": 5,
        "pms_breaker_reset_seconds": 1.0,
        "log_level": "WARNING",
    }
    opts.update(kw)
    return PmsSettings(**opts)


@pytest.fixture
async def parts(stand_in: object, redis: aioredis.Redis, redis_url: str) -> AsyncIterator[object]:
    from posada_pms.wiring import build

    built = build(pms_settings(stand_in, redis_url), redis)
    try:
        yield built
    finally:
        await built.close()


@contextlib.asynccontextmanager
async def pms_server(sim: object, redis_url: str, **settings_kw: object) -> AsyncIterator[tuple]:
    """A real grpc.aio server (common skeleton + interceptors) running the pms service;
    yields (stub, parts)."""
    from posada_common.server import running
    from posada_pms.main import SERVICE_NAME, register

    settings = pms_settings(sim, redis_url, **settings_kw)
    async with (
        running(settings, service_names=[SERVICE_NAME], register=register) as rt,
        trusted_channel(f"127.0.0.1:{rt.port}") as channel,
    ):
        yield pms_grpc.PmsServiceStub(channel), rt.state["pms"]


@pytest.fixture
async def server_factory(stand_in: object, redis: aioredis.Redis, redis_url: str):  # type: ignore[no-untyped-def]
    return lambda **kw: pms_server(stand_in, str(kw.pop("redis_url", redis_url)), **kw)


@pytest.fixture
async def stub(
    stand_in: object, redis: aioredis.Redis, redis_url: str
) -> AsyncIterator[pms_grpc.PmsServiceStub]:
    async with pms_server(stand_in, redis_url) as (client, _parts):
        yield client
