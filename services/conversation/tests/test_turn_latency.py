"""20 concurrent guests are all answered, over real nlp/pms, Postgres and Redis; the latency
figures are printed (thresholds live in bench/, not in tests)."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest
from conv_chat import Guest

TURNS = [
    "hola",
    "¿hay habitaciones libres del 12 al 14 de marzo para 2 personas?",
    "¿y para 3 personas?",
    "¿dónde están?",
    "gracias",
]


@pytest.mark.slow
async def test_turn_latency_under_20_concurrent_guests(service, mesh):  # type: ignore[no-untyped-def]
    latencies: list[float] = []

    async def guest(i: int) -> None:
        g = Guest(service.stub, phone=f"3469{i:07d}")
        for text in TURNS:
            start = time.perf_counter()
            r = await g.say(text)
            latencies.append(time.perf_counter() - start)
            assert r.replies

    start = time.perf_counter()
    await asyncio.gather(*(guest(i) for i in range(20)))
    wall = time.perf_counter() - start
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"\nconversation turns: n={len(latencies)} p50={p50 * 1000:.0f}ms p95={p95 * 1000:.0f}ms "
        f"max={latencies[-1] * 1000:.0f}ms throughput={len(latencies) / wall:.1f} turns/s "
        f"(nlp real={mesh.real_nlp}, pms real={mesh.real_pms})"
    )
    # Speed is measured, not asserted here (thresholds belong in bench/): every turn answered.
    assert len(latencies) == 20 * len(TURNS)
