"""What mesh authentication costs: token signing and verification, and one unary RPC on a real
grpc.aio server with and without the auth interceptor (same process, loopback).

    .venv/bin/python bench/auth/run.py [--calls 2000]

Bounded by count; prints a table and writes bench/results/auth.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from hotel.nlp.v1 import nlp_service_pb2 as pb
from hotel.nlp.v1 import nlp_service_pb2_grpc as pb_grpc
from posada_common import auth
from posada_common.auth_keys import generate_credentials

RESULTS = Path(__file__).resolve().parents[1] / "results" / "auth.json"
NLP = "hotel.nlp.v1.NlpService"


def _us(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_us": round(1e6 * statistics.median(ordered), 1),
        "p99_us": round(1e6 * ordered[int(0.99 * (len(ordered) - 1))], 1),
    }


def crypto(n: int) -> dict[str, Any]:
    creds = generate_credentials()
    mint, verify = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        token = auth.mint_service_token(NLP, identity="conversation", credentials=creds)
        t1 = time.perf_counter()
        auth.verify_service_token(token, [NLP], creds)
        t2 = time.perf_counter()
        mint.append(t1 - t0)
        verify.append(t2 - t1)
    return {"mint": _us(mint), "verify": _us(verify)}


class Echo(pb_grpc.NlpServiceServicer):
    async def Parse(self, request: pb.ParseRequest, context: Any) -> pb.ParseResponse:
        return pb.ParseResponse(language="es")


async def rpc(n: int, with_auth: bool) -> dict[str, Any]:
    creds = generate_credentials()
    interceptors = [auth.AuthInterceptor(creds)] if with_auth else []
    server = grpc.aio.server(interceptors=interceptors)
    pb_grpc.add_NlpServiceServicer_to_server(Echo(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    client_interceptors = auth.client_interceptors("conversation", creds) if with_auth else []
    try:
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", interceptors=client_interceptors
        ) as ch:
            stub = pb_grpc.NlpServiceStub(ch)
            await stub.Parse(pb.ParseRequest(text="hola"), timeout=5)
            samples = []
            for _ in range(n):
                t0 = time.perf_counter()
                await stub.Parse(pb.ParseRequest(text="hola"), timeout=5)
                samples.append(time.perf_counter() - t0)
    finally:
        await server.stop(0)
    return {"auth": with_auth, "calls": n, **_us(samples)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()
    result = {
        "benchmark": "auth",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version()},
        "tokens": crypto(args.calls),
        "rpc": [asyncio.run(rpc(args.calls, False)), asyncio.run(rpc(args.calls, True))],
    }
    print(f"token mint   p50 {result['tokens']['mint']['p50_us']} µs (cached per 4 min)")
    print(
        f"token verify p50 {result['tokens']['verify']['p50_us']} µs (first sight; then cached until expiry)"
    )
    for row in result["rpc"]:
        print(
            f"unary RPC {'with' if row['auth'] else 'without'} auth: "
            f"p50 {row['p50_us']} µs, p99 {row['p99_us']} µs ({row['calls']} calls)"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
