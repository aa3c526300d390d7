"""CheckAvailability latency, cached and uncached, through Envoy (or straight to a pms replica).

    # whole mesh running (`hotelctl up` / `make run`): through Envoy's mesh listener
    .venv/bin/python bench/pms/run.py --mesh 127.0.0.1:9000
    # one pms replica directly
    .venv/bin/python bench/pms/run.py --address 127.0.0.1:50054
    # nothing running: starts Redis, the QloApps stand-in, one pms process (and Envoy, from the
    # same generated config `hotelctl up` uses) on a free shifted port range
    .venv/bin/python bench/pms/run.py --local --envoy

"uncached" asks for a different stay on every call (the availability cache is keyed by hotel
and dates, so each call costs two `hotel_ari` round trips to QloApps); "cached" repeats one
stay after a warm-up call. Static data (hotels, room types) is warm in both. Prints a table
and writes JSON (default `bench/results/pms.json`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from hotel.pms.v1 import pms_service_pb2 as pms
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from hotel.type.v1 import date_pb2
from posada_common.auth_keys import (
    MeshCredentials,
    generate_credentials,
    load_or_create_dev_credentials,
)
from posada_common.clients import dial

ROOT = Path(__file__).resolve().parents[2]


def _d(value: date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def run_phase(
    stub: pms_grpc.PmsServiceStub,
    requests: list[pms.CheckAvailabilityRequest],
    concurrency: int,
    deadline: float,
    metadata: tuple[tuple[str, str], ...],
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    queue: asyncio.Queue[pms.CheckAvailabilityRequest] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)

    async def worker() -> None:
        while True:
            try:
                req = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            start = time.perf_counter()
            try:
                await stub.CheckAvailability(req, timeout=deadline, metadata=metadata)
                latencies.append((time.perf_counter() - start) * 1000)
            except grpc.aio.AioRpcError as exc:
                errors[exc.code().name] = errors.get(exc.code().name, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(requests),
        "ok": len(latencies),
        "errors": errors,
        "concurrency": concurrency,
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "throughput_rps": round(len(latencies) / elapsed, 1) if elapsed else None,
    }


def _wait_port(proc: Any, port: int, timeout: float = 30.0) -> None:
    from hotelctl.embedded import port_open

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if not proc.running():
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        time.sleep(0.1)
    raise TimeoutError(f"{proc.name} did not listen on {port} within {timeout}s")


@contextlib.contextmanager
def local_stack(with_envoy: bool) -> Iterator[tuple[str, str]]:
    """Redis, the QloApps stand-in, one pms replica (and Envoy) as separate processes on a
    shifted port range, like `hotelctl up` does; yields (address, via)."""
    from hotelctl.embedded import port_open, start_redis
    from hotelctl.embedded import redis_url as make_redis_url
    from hotelctl.envoy_config import render_text
    from hotelctl.mesh import load_mesh
    from hotelctl.processes import ManagedProcess

    mesh = None
    for _ in range(20):
        candidate = load_mesh(offset=random.randint(2000, 14000))
        ports = [
            candidate.mesh_port,
            candidate.admin_port,
            candidate.public_port,
            candidate.stats_port,
            candidate.redis_port,
            candidate.qloapps_port,
            candidate.services["pms"].grpc_port,
        ]
        if not any(port_open(p) for p in ports):
            mesh = candidate
            break
    if mesh is None:
        raise RuntimeError("no free port range for the local stack")
    folder = Path(tempfile.mkdtemp(prefix="pms-bench-"))
    key = "POSADABENCHKEY000000000000000001"
    py = sys.executable
    pms_port = mesh.services["pms"].grpc_port
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
        "PMS_API_KEY": key,
        "REDIS_URL": make_redis_url(mesh.redis_port),
        "PMS_BASE_URL": f"http://127.0.0.1:{mesh.qloapps_port}",
        "GRPC_PORT": str(pms_port),
        "METRICS_PORT": "0",
        # Mesh credentials for this run only: pms verifies, the bench signs as conversation.
        **_bench_credentials().env_for("pms"),
    }
    procs: list[ManagedProcess] = []
    try:
        procs.append(start_redis(folder / "redis", mesh.redis_port, folder / "redis.log"))
        procs.append(
            ManagedProcess(
                "qloapps",
                [
                    py,
                    "-m",
                    "posada_sim_qloapps",
                    "--port",
                    str(mesh.qloapps_port),
                    "--db",
                    str(folder / "qloapps.sqlite3"),
                    "--api-key",
                    key,
                ],
                log_path=folder / "qloapps.log",
                env=env,
            ).start()
        )
        _wait_port(procs[-1], mesh.qloapps_port)
        procs.append(
            ManagedProcess(
                "pms", [py, "-m", "posada_pms"], log_path=folder / "pms.log", env=env
            ).start()
        )
        _wait_port(procs[-1], pms_port)
        address, via = f"127.0.0.1:{pms_port}", "direct (local pms process)"
        if with_envoy:
            config = folder / "envoy.yaml"
            config.write_text(render_text(mesh, "local"))
            procs.append(
                ManagedProcess(
                    "envoy",
                    [
                        str(Path(py).parent / "envoy"),
                        "-c",
                        str(config),
                        "--log-level",
                        "warn",
                        "--base-id",
                        str(mesh.offset + 97),
                    ],
                    log_path=folder / "envoy.log",
                    env=env,
                ).start()
            )
            _wait_port(procs[-1], mesh.mesh_port)
            time.sleep(2.0)  # let Envoy's active gRPC health check mark pms healthy
            address, via = f"127.0.0.1:{mesh.mesh_port}", "envoy (local pms process)"
        yield address, via
    finally:
        for proc in reversed(procs):
            proc.stop()
        shutil.rmtree(folder, ignore_errors=True)


@functools.cache
def _bench_credentials() -> MeshCredentials:
    """The local `make run` keys when they exist (--mesh/--address against a running mesh),
    else fresh ones for the pms process `--local` starts."""
    run_dir = os.environ.get("POSADA_RUN_DIR") or Path(__file__).resolve().parents[2] / ".run"
    run_creds = Path(run_dir) / "credentials"
    if run_creds.is_dir():
        return load_or_create_dev_credentials(run_creds)
    return generate_credentials()


async def bench(address: str, via: str, args: argparse.Namespace) -> dict[str, Any]:
    metadata = (("x-posada-service", "pms"),) if via == "envoy" else ()
    async with dial(
        address, identity="conversation", credentials=_bench_credentials(), trace=False
    ) as channel:
        stub = pms_grpc.PmsServiceStub(channel)
        hotels = await stub.ListHotels(
            pms.ListHotelsRequest(), timeout=args.deadline, metadata=metadata
        )
        hotel_id = args.hotel or hotels.hotels[0].hotel_id
        today = datetime.now(UTC).date()
        rng = random.Random()
        # A fresh region of the calendar: nothing cached from earlier runs.
        base = rng.randint(30, 200)
        uncached: list[pms.CheckAvailabilityRequest] = []
        seen: set[tuple[int, int]] = set()
        while len(uncached) < args.requests * len(args.concurrency):
            offset, nights = base + rng.randint(0, 400), rng.randint(1, 4)
            if (offset, nights) in seen:
                continue
            seen.add((offset, nights))
            ci = today + timedelta(days=offset)
            uncached.append(
                pms.CheckAvailabilityRequest(
                    hotel_id=hotel_id,
                    check_in=_d(ci),
                    check_out=_d(ci + timedelta(days=nights)),
                    adults=2,
                )
            )
        ci = today + timedelta(days=base + 480)
        one = pms.CheckAvailabilityRequest(
            hotel_id=hotel_id, check_in=_d(ci), check_out=_d(ci + timedelta(days=3)), adults=2
        )
        # Warm the cache for `one`, and connections and code paths, before measuring.
        await stub.CheckAvailability(one, timeout=args.deadline, metadata=metadata)
        await run_phase(stub, [one] * 20, 4, args.deadline, metadata)
        runs = []
        for level in args.concurrency:
            cached = await run_phase(stub, [one] * args.requests, level, args.deadline, metadata)
            batch, uncached = uncached[: args.requests], uncached[args.requests :]
            runs.append(
                {
                    "concurrency": level,
                    "cached": cached,
                    "uncached": await run_phase(stub, batch, level, args.deadline, metadata),
                }
            )
        return {
            "benchmark": "pms.CheckAvailability",
            "target": address,
            "via": via,
            "hotel_id": hotel_id,
            "requests_per_phase": args.requests,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs (shared),"
            f" python {platform.python_version()}",
            "runs": runs,
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--mesh", help="Envoy mesh listener, e.g. 127.0.0.1:9000")
    target.add_argument("--address", help="a pms replica directly, e.g. 127.0.0.1:50054")
    target.add_argument(
        "--local", action="store_true", help="start Redis, the stand-in and pms as processes"
    )
    parser.add_argument(
        "--envoy", action="store_true", help="with --local: also start Envoy and go through it"
    )
    parser.add_argument("--hotel", default="", help="hotel id (default: the first one)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[1, 8],
        help="comma-separated levels, e.g. 1,8",
    )
    parser.add_argument("--deadline", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pms.json")
    args = parser.parse_args()

    async def go() -> dict[str, Any]:
        if args.address:
            return await bench(args.address, "direct", args)
        return await bench(args.mesh or "127.0.0.1:9000", "envoy", args)

    if args.local:
        with local_stack(args.envoy) as (address, via):
            result = asyncio.run(bench(address, via, args))
    else:
        result = asyncio.run(go())
    print(f"CheckAvailability via {result['via']} ({result['target']}), hotel {result['hotel_id']}")
    print(
        f"{'':10}{'conc':>5}{'n':>6}{'ok':>6}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'rps':>8}  errors"
    )
    failed = False
    for run in result["runs"]:
        for phase in ("cached", "uncached"):
            r = run[phase]
            failed = failed or bool(r["errors"])
            print(
                f"{phase:10}{run['concurrency']:>5}{r['requests']:>6}{r['ok']:>6}{r['p50_ms']:>9}"
                f"{r['p90_ms']:>9}{r['p99_ms']:>9}{r['throughput_rps']:>8}  {r['errors'] or '-'}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
