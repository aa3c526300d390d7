"""NLP benchmark: parses/second in process (single and batched) and Parse latency over gRPC.

    .venv/bin/python bench/nlp/run.py                          # in process only
    .venv/bin/python bench/nlp/run.py --mesh 127.0.0.1:9000    # + Parse through Envoy (hotelctl up)
    .venv/bin/python bench/nlp/run.py --self-mesh              # starts nlp + a minimal Envoy itself

Messages are the held-out split's texts (varied length, three languages). Every loop is
bounded in count and time; results go to bench/results/nlp.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "nlp.json"
REF = date(2026, 3, 4)


def _credentials() -> Any:
    """Keys for this bench: the local `make run` ones when they exist (--mesh/--direct
    against a running mesh), else fresh ones for the nlp process this bench starts itself."""
    from posada_common.auth_keys import generate_credentials, load_or_create_dev_credentials

    run_creds = Path(os.environ.get("POSADA_RUN_DIR") or ROOT / ".run") / "credentials"
    if run_creds.is_dir():
        return load_or_create_dev_credentials(run_creds)
    return generate_credentials()


BENCH_CREDENTIALS = _credentials()


def corpus() -> list[str]:
    from posada_nlp.data import load_dir
    from posada_nlp.paths import data_dir

    texts = [e.text for e in load_dir(data_dir() / "test")]
    return texts or ["hola, tienen habitación doble para el finde?", "how much is a twin room?"]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))
    return xs[k]


def bench_in_process(seconds: float) -> dict[str, Any]:
    from posada_nlp.backend import load_spacy_engine
    from posada_nlp.paths import models_dir

    engine = load_spacy_engine(models_dir(), train_if_missing=True)
    texts = corpus()
    engine.parse_many(texts[:32], reference_dates=[REF] * 32)  # warm caches / imports
    lat: list[float] = []
    n = 0
    t_end = time.perf_counter() + seconds
    t0 = time.perf_counter()
    while time.perf_counter() < t_end and n < 200_000:
        t = texts[n % len(texts)]
        s = time.perf_counter()
        engine.parse(t, reference_date=REF, time_zone="Europe/Madrid")
        lat.append(time.perf_counter() - s)
        n += 1
    single = n / (time.perf_counter() - t0)
    batch_size = 64
    n = 0
    t_end = time.perf_counter() + seconds
    t0 = time.perf_counter()
    i = 0
    while time.perf_counter() < t_end and n < 200_000:
        chunk = [texts[(i + k) % len(texts)] for k in range(batch_size)]
        engine.parse_many(
            chunk, reference_dates=[REF] * batch_size, time_zones=["Europe/Madrid"] * batch_size
        )
        n += batch_size
        i += batch_size
    batched = n / (time.perf_counter() - t0)
    return {
        "model_version": engine.version,
        "messages": len(texts),
        "single_parses_per_second": round(single, 1),
        "batched_parses_per_second": round(batched, 1),
        "batch_size": batch_size,
        "single_parse_ms_p50": round(1000 * statistics.median(lat), 3),
        "single_parse_ms_p99": round(1000 * pct(lat, 99), 3),
    }


async def bench_grpc(address: str, requests: int, seconds: float, label: str) -> dict[str, Any]:
    import grpc
    from hotel.nlp.v1 import nlp_service_pb2 as pb
    from hotel.nlp.v1 import nlp_service_pb2_grpc as pb_grpc
    from hotel.type.v1 import date_pb2

    texts = corpus()
    ref = date_pb2.Date(year=REF.year, month=REF.month, day=REF.day)
    from posada_common.clients import dial

    async with dial(
        address, identity="conversation", credentials=BENCH_CREDENTIALS, trace=False
    ) as ch:
        stub = pb_grpc.NlpServiceStub(ch)
        deadline = time.monotonic() + 60
        while True:  # wait until the model is loaded (UNAVAILABLE before)
            try:
                await stub.Parse(pb.ParseRequest(text="hola", reference_date=ref), timeout=2)
                break
            except grpc.aio.AioRpcError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        for i in range(100):  # warm-up
            await stub.Parse(
                pb.ParseRequest(text=texts[i % len(texts)], reference_date=ref), timeout=2
            )
        lat: list[float] = []
        errors = 0
        t_end = time.perf_counter() + seconds
        t0 = time.perf_counter()
        for i in range(requests):
            if time.perf_counter() > t_end:
                break
            req = pb.ParseRequest(
                text=texts[i % len(texts)], reference_date=ref, time_zone="Europe/Madrid"
            )
            s = time.perf_counter()
            try:
                await stub.Parse(req, timeout=2)
            except grpc.aio.AioRpcError:
                errors += 1
                continue
            lat.append(time.perf_counter() - s)
        wall = time.perf_counter() - t0
        batch = [pb.ParseRequest(text=texts[i % len(texts)], reference_date=ref) for i in range(64)]
        bl: list[float] = []
        for _ in range(30):
            s = time.perf_counter()
            await stub.ParseBatch(pb.ParseBatchRequest(requests=batch), timeout=5)
            bl.append(time.perf_counter() - s)
    return {
        "via": label,
        "address": address,
        "requests": len(lat),
        "errors": errors,
        "sequential_rps": round(len(lat) / wall, 1),
        "parse_ms_p50": round(1000 * statistics.median(lat), 3),
        "parse_ms_p90": round(1000 * pct(lat, 90), 3),
        "parse_ms_p99": round(1000 * pct(lat, 99), 3),
        "parse_ms_max": round(1000 * max(lat), 3),
        "parse_batch64_ms_p50": round(1000 * statistics.median(bl), 3),
    }


ENVOY_CONFIG = """
static_resources:
  listeners:
  - name: mesh
    address: {{socket_address: {{address: 127.0.0.1, port_value: {mesh_port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: mesh
          codec_type: AUTO
          route_config:
            virtual_hosts:
            - name: mesh
              domains: ["*"]
              routes:
              - match: {{prefix: /hotel.nlp.v1.NlpService/, grpc: {{}}}}
                route: {{cluster: nlp_grpc, timeout: 3s}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: nlp_grpc
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {{http2_protocol_options: {{}}}}
    load_assignment:
      cluster_name: nlp_grpc
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {nlp_port}}}}}}}
admin:
  address: {{socket_address: {{address: 127.0.0.1, port_value: {admin_port}}}}}
"""


def self_mesh(requests: int, seconds: float) -> list[dict[str, Any]]:
    """Start the nlp service (subprocess) and a minimal Envoy in front of it; measure both paths."""
    from posada_common.testing import free_port, wait_for_port

    envoy = shutil.which("envoy") or str(Path(sys.executable).parent / "envoy")
    nlp_port, mesh_port, admin_port = free_port(), free_port(), free_port()
    tmp = Path(tempfile.mkdtemp(prefix="nlp-bench-"))
    cfg = tmp / "envoy.yaml"
    cfg.write_text(
        ENVOY_CONFIG.format(mesh_port=mesh_port, nlp_port=nlp_port, admin_port=admin_port)
    )
    env = {
        **os.environ,
        "GRPC_PORT": str(nlp_port),
        "METRICS_PORT": "0",
        "LOG_LEVEL": "WARNING",
        **BENCH_CREDENTIALS.env_for("nlp"),
    }
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "posada_nlp"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp / "nlp.log").open("w"),
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    envoy,
                    "-c",
                    str(cfg),
                    "--log-level",
                    "warn",
                    "--concurrency",
                    "1",
                    "--base-id",
                    str(admin_port),
                ],
                stdout=subprocess.DEVNULL,
                stderr=(tmp / "envoy.log").open("w"),
            )
        )
        wait_for_port(nlp_port, timeout=60)
        wait_for_port(mesh_port, timeout=30)
        direct = asyncio.run(bench_grpc(f"127.0.0.1:{nlp_port}", requests, seconds, "direct"))
        mesh = asyncio.run(
            bench_grpc(
                f"127.0.0.1:{mesh_port}", requests, seconds, "envoy (self-started, minimal config)"
            )
        )
        return [direct, mesh]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--mesh", help="Envoy mesh address, e.g. 127.0.0.1:9000 (hotelctl up)")
    ap.add_argument("--direct", help="the nlp service's own address, e.g. 127.0.0.1:50052")
    ap.add_argument(
        "--self-mesh", action="store_true", help="start nlp + a minimal Envoy on free ports"
    )
    ap.add_argument("--seconds", type=float, default=5.0, help="time bound per measurement")
    ap.add_argument("--requests", type=int, default=3000, help="count bound for gRPC measurements")
    ap.add_argument("--output", default=str(RESULTS))
    args = ap.parse_args()

    result: dict[str, Any] = {
        "benchmark": "nlp",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "in_process": bench_in_process(args.seconds),
        "grpc": [],
    }
    print(json.dumps(result["in_process"], indent=2), flush=True)
    if args.direct:
        result["grpc"].append(
            asyncio.run(bench_grpc(args.direct, args.requests, args.seconds, "direct"))
        )
    if args.mesh:
        result["grpc"].append(
            asyncio.run(bench_grpc(args.mesh, args.requests, args.seconds, "envoy mesh"))
        )
    if args.self_mesh:
        result["grpc"].extend(self_mesh(args.requests, args.seconds))
    for g in result["grpc"]:
        print(json.dumps(g, indent=2), flush=True)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
