"""Gateway webhook benchmark: acknowledgements per second, ack latency, end-to-end reply time.

    # nothing running (default): starts Redis, the WhatsApp simulator, an echo ConversationService,
    # the gateway as its own process and Envoy in front of it (a minimal public listener)
    .venv/bin/python bench/gateway/run.py
    # the same without Envoy (straight to the gateway's HTTP port)
    .venv/bin/python bench/gateway/run.py --no-envoy
    # whole mesh running (`make run`): through Envoy's public listener, real conversation service
    .venv/bin/python bench/gateway/run.py --url http://127.0.0.1:8080/webhooks/whatsapp \
        --sim-url http://127.0.0.1:8080/sim

Each load level posts `--per-level` signed webhooks (one text message from a distinct guest
each, shaped like Meta's) with `concurrency` requests in flight, bounded by `--max-seconds`.
Ack latency is the client-side time from sending the POST to reading the 200. End-to-end time
runs from the POST to the reply showing up in the simulator's outbox (the simulator stamps each
recorded Graph request; same machine clock). At the end every message must have exactly one
reply: lost = no reply, duplicated = more than one. Loopback only, bounded in count and time.
Writes JSON (default bench/results/gateway.json) and a PNG chart next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
SECRET = os.environ.get("WHATSAPP_APP_SECRET", "bench-app-secret")
TOKEN = os.environ.get("WHATSAPP_ACCESS_TOKEN", "bench-access-token")
PNID = os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "1098765432101")


def sign(raw: bytes) -> str:
    import hashlib
    import hmac

    return "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()


def webhook_body(guest: str, wamid: str, text: str) -> bytes:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "2345678901234",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550101234",
                                "phone_number_id": PNID,
                            },
                            "contacts": [{"profile": {"name": "Bench Guest"}, "wa_id": guest}],
                            "messages": [
                                {
                                    "from": guest,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- local stack --------------------------------------------------------------------------
class EchoConversation:
    """A minimal ConversationService: one text reply per message, idempotent by message id."""

    def __init__(self) -> None:
        from hotel.conversation.v1 import conversation_service_pb2_grpc as cg

        outer = self

        class Servicer(cg.ConversationServiceServicer):
            async def HandleMessage(self, request: Any, context: Any) -> Any:
                return outer.handle(request)

            async def RecordDelivery(self, request: Any, context: Any) -> Any:
                from hotel.conversation.v1 import conversation_service_pb2 as c

                return c.RecordDeliveryResponse()

        self.servicer = Servicer()
        self.seen: dict[str, Any] = {}

    def handle(self, request: Any) -> Any:
        from hotel.channel.v1 import message_pb2 as m
        from hotel.conversation.v1 import conversation_service_pb2 as c

        msg = request.message
        if msg.message_id not in self.seen:
            self.seen[msg.message_id] = c.HandleMessageResponse(
                conversation_id=msg.conversation_id,
                language="en",
                replies=[
                    m.Reply(
                        reply_id=msg.message_id + ":0", text=m.TextReply(body="echo: " + msg.text)
                    )
                ],
            )
        return self.seen[msg.message_id]


ENVOY_CONFIG = """
static_resources:
  listeners:
  - name: public
    address: {{socket_address: {{address: 127.0.0.1, port_value: {public}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: public
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {{prefix: /webhooks/}}
                route: {{cluster: gateway_http, timeout: 10s}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: gateway_http
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: gateway_http
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {gateway}}}}}}}
admin:
  address: {{socket_address: {{address: 127.0.0.1, port_value: {admin}}}}}
"""


class LocalStack:
    def __init__(self, use_envoy: bool, concurrency: int) -> None:
        self.use_envoy = use_envoy
        self.worker_concurrency = concurrency
        self.stack = contextlib.AsyncExitStack()
        self.tmp = Path(tempfile.mkdtemp(prefix="posada-bench-gw-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.url = ""
        self.sim_url = ""

    async def __aenter__(self) -> LocalStack:
        import grpc
        from hotel.conversation.v1 import conversation_service_pb2_grpc as cg
        from posada_sim_whatsapp import SimConfig, start_simulator

        redis_url = os.environ.get("REDIS_URL_BENCH", "")
        if not redis_url:
            from hotelctl.embedded import redis_url as make_url
            from hotelctl.embedded import start_redis

            port = free_port()
            proc = start_redis(self.tmp / "redis", port, self.tmp / "redis.log")
            self.stack.callback(proc.stop)
            redis_url = make_url(port)

        conv = EchoConversation()
        server = grpc.aio.server()
        cg.add_ConversationServiceServicer_to_server(conv.servicer, server)
        # The gateway starts consuming once conversation's health says SERVING.
        from grpc_health.v1 import health, health_pb2, health_pb2_grpc

        health_servicer = health.aio.HealthServicer()
        await health_servicer.set(
            "hotel.conversation.v1.ConversationService", health_pb2.HealthCheckResponse.SERVING
        )
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        conv_port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        self.stack.push_async_callback(server.stop, 0)

        http_port = free_port()
        sim = await start_simulator(
            SimConfig(
                app_secret=SECRET,
                access_token=TOKEN,
                phone_number_id=PNID,
                webhook_url=f"http://127.0.0.1:{http_port}/webhooks/whatsapp",
                status_delay_ms=200,
            )
        )
        self.stack.push_async_callback(sim.runner.cleanup)
        self.sim_url = sim.base_url + "/sim"

        tag = uuid.uuid4().hex[:8]
        env = {
            **os.environ,
            "ENVIRONMENT": "test",
            "GRPC_PORT": str(free_port()),
            "METRICS_PORT": "0",
            "GATEWAY_HTTP_PORT": str(http_port),
            "MESH_ADDRESS": f"127.0.0.1:{conv_port}",
            "REDIS_URL": redis_url,
            "WHATSAPP_APP_SECRET": SECRET,
            "WHATSAPP_ACCESS_TOKEN": TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PNID,
            "WHATSAPP_API_BASE": sim.base_url,
            "GATEWAY_INBOX_STREAM": f"gw:bench:{tag}:inbox",
            "GATEWAY_STATUS_STREAM": f"gw:bench:{tag}:status",
            "GATEWAY_DLQ_STREAM": f"gw:bench:{tag}:dlq",
            "GATEWAY_CONSUMER_NAME": f"bench-{tag}",
            "GATEWAY_WORKER_CONCURRENCY": str(self.worker_concurrency),
            "LOG_LEVEL": "WARNING",
        }
        if os.environ.get("BENCH_GATEWAY_SRC"):
            # Measure another version of the gateway (e.g. before a change) with the same stack.
            env["PYTHONPATH"] = os.environ["BENCH_GATEWAY_SRC"]
        gw = spawn([sys.executable, "-m", "posada_gateway"], env, self.tmp / "gateway.log")
        self.procs.append(gw)
        await wait_http(f"http://127.0.0.1:{http_port}/healthz", gw)
        self.url = f"http://127.0.0.1:{http_port}/webhooks/whatsapp"

        if self.use_envoy:
            public, admin = free_port(), free_port()
            cfg = self.tmp / "envoy.yaml"
            cfg.write_text(ENVOY_CONFIG.format(public=public, gateway=http_port, admin=admin))
            envoy_bin = Path(sys.executable).parent / "envoy"
            envoy = spawn(
                [
                    str(envoy_bin),
                    "-c",
                    str(cfg),
                    "--log-level",
                    "warn",
                    "--concurrency",
                    "1",
                    "--base-id",
                    str(public),
                ],
                dict(os.environ),
                self.tmp / "envoy.log",
            )
            self.procs.append(envoy)
            self.url = f"http://127.0.0.1:{public}/webhooks/whatsapp"
            await wait_http(
                self.url.replace("/webhooks/whatsapp", "/webhooks/whatsapp?hub.mode=x"),
                envoy,
                ok=(403,),
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        await self.stack.aclose()


def spawn(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=log)


async def wait_http(url: str, proc: subprocess.Popen[bytes], ok: tuple[int, ...] = (200,)) -> None:
    deadline = time.monotonic() + 40
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with s.get(url) as r:
                    if r.status in ok and (
                        r.status != 200 or "healthz" not in url or (await r.json()).get("ready")
                    ):
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} not ready")


# --- load ---------------------------------------------------------------------------------
async def run_level(
    session: aiohttp.ClientSession,
    url: str,
    concurrency: int,
    count: int,
    max_seconds: float,
    run_tag: str,
    level_index: int,
    sent: dict[str, float],
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(count))
    started = time.perf_counter()
    deadline = started + max_seconds

    async def one_worker() -> None:
        for i in counter:
            if time.perf_counter() > deadline:
                return
            guest = f"4915{run_tag}{level_index:02d}{i:05d}"  # 14 digits: a valid E.164 length
            wamid = f"wamid.BENCH{run_tag}{level_index:02d}{i:06d}"
            raw = webhook_body(guest, wamid, f"bench {i}")
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw)}
            t0 = time.perf_counter()
            wall = time.time()
            try:
                async with session.post(url, data=raw, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except aiohttp.ClientError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            dt = time.perf_counter() - t0
            if status == 200:
                latencies.append(dt)
                sent[guest] = wall
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1

    await asyncio.gather(*(one_worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "acked": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 3),
        "acks_per_second": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "ack_p50_ms": round(pct(latencies, 50) * 1000, 2),
        "ack_p99_ms": round(pct(latencies, 99) * 1000, 2),
        "ack_mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
    }


async def collect_replies(
    session: aiohttp.ClientSession, sim_url: str, sent: dict[str, float], wait_seconds: float
) -> dict[str, list[float]]:
    """Reply timestamps per guest from the simulator's outbox, until all arrived or time is up."""
    replies: dict[str, list[float]] = {}
    since = 0
    deadline = time.monotonic() + wait_seconds
    while True:
        async with session.get(
            f"{sim_url}/outbox", params={"endpoint": "messages", "since": str(since)}
        ) as r:
            rows = await r.json(content_type=None)
        for row in rows:
            since = max(since, int(row["seq"]))
            to = str(row.get("to") or "")
            if to in sent and row["response"]["status"] == 200 and row.get("wamid"):
                replies.setdefault(to, []).append(float(row["at"]))
        if len(replies) >= len(sent) or time.monotonic() > deadline:
            return replies
        if not rows:
            await asyncio.sleep(0.25)


def chart(result: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (uv sync --all-packages --all-extras): chart skipped")
        return False
    levels = result["levels"]
    x = [lv["concurrency"] for lv in levels]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    a1.plot(x, [lv["acks_per_second"] for lv in levels], marker="o", color="tab:blue")
    a1.set_xscale("log", base=2)
    a1.set_xlabel("requests in flight")
    a1.set_ylabel("webhook acks / second")
    a1.set_title("Acknowledgements per second")
    a1.grid(alpha=0.3)
    a2.plot(x, [lv["ack_p50_ms"] for lv in levels], marker="o", label="ack p50")
    a2.plot(x, [lv["ack_p99_ms"] for lv in levels], marker="o", label="ack p99")
    a2.plot(
        x, [lv.get("e2e_p50_ms", 0) for lv in levels], marker="s", ls="--", label="end-to-end p50"
    )
    a2.plot(
        x, [lv.get("e2e_p99_ms", 0) for lv in levels], marker="s", ls="--", label="end-to-end p99"
    )
    a2.set_xscale("log", base=2)
    a2.set_yscale("log")
    a2.set_xlabel("requests in flight")
    a2.set_ylabel("milliseconds")
    a2.set_title("Ack latency; webhook → reply under backlog")
    a2.grid(alpha=0.3, which="both")
    a2.legend(fontsize=8)
    ok = result["integrity"]
    u = result["unloaded_end_to_end"]
    fig.suptitle(
        f"Posada gateway ({result['target']}): {ok['messages']} messages, lost {ok['lost']}, "
        f"duplicated {ok['duplicated']}; worker {result['worker']['replies_per_second']} replies/s; "
        f"unloaded webhook→reply p50 {u['p50_ms']:.0f} ms, p99 {u['p99_ms']:.0f} ms",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    stack: LocalStack | None = None
    if args.url:
        url, sim_url, target = args.url, args.sim_url.rstrip("/"), args.label
    else:
        stack = await LocalStack(not args.no_envoy, args.worker_concurrency).__aenter__()
        url, sim_url = stack.url, stack.sim_url
        target = "local, through Envoy" if not args.no_envoy else "local, direct"
    run_tag = uuid.uuid4().hex[:3].translate(str.maketrans("abcdef", "123456"))
    result: dict[str, Any] = {"target": target, "url": url, "levels": []}
    try:
        conn = aiohttp.TCPConnector(limit=max(levels) + 8)
        async with aiohttp.ClientSession(
            connector=conn, timeout=aiohttp.ClientTimeout(total=30)
        ) as session:
            all_sent: dict[str, float] = {}
            per_level_guests: list[dict[str, float]] = []
            for i, c in enumerate(levels):
                sent: dict[str, float] = {}
                lv = await run_level(
                    session, url, c, args.per_level, args.max_seconds, run_tag, i, sent
                )
                result["levels"].append(lv)
                per_level_guests.append(sent)
                all_sent.update(sent)
                print(
                    f"concurrency {c:>4}: {lv['acked']:>5} acked, {lv['acks_per_second']:>8.1f}/s, "
                    f"p50 {lv['ack_p50_ms']:.1f} ms, p99 {lv['ack_p99_ms']:.1f} ms, errors {lv['errors']}"
                )
                await asyncio.sleep(args.pause)
            replies = await collect_replies(session, sim_url, all_sent, args.wait_seconds)
            # Unloaded end-to-end: a few messages paced well below capacity, after the backlog drained.
            probe: dict[str, float] = {}
            for i in range(args.probe_count):
                guest = f"4916{run_tag}{i:07d}"
                raw = webhook_body(guest, f"wamid.PROBE{run_tag}{i:06d}", f"probe {i}")
                wall = time.time()
                async with session.post(
                    url,
                    data=raw,
                    headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw)},
                ) as resp:
                    if resp.status == 200:
                        probe[guest] = wall
                await asyncio.sleep(1.0 / args.probe_rate)
            probe_replies = await collect_replies(session, sim_url, probe, 30)
        for lv, sent in zip(result["levels"], per_level_guests, strict=True):
            e2e = [replies[g][0] - t for g, t in sent.items() if g in replies]
            lv["e2e_p50_ms"] = round(pct(e2e, 50) * 1000, 1)
            lv["e2e_p99_ms"] = round(pct(e2e, 99) * 1000, 1)
            lv["replied"] = len(e2e)
        first_post = min(all_sent.values()) if all_sent else 0.0
        last_reply = max((ts[0] for ts in replies.values()), default=first_post)
        result["worker"] = {
            "replies_per_second": round(len(replies) / (last_reply - first_post), 1)
            if last_reply > first_post
            else 0.0,
            "note": "messages answered per second while the load levels' backlog drained "
            "(mark-read + HandleMessage + send + delivery records per message)",
        }
        pe2e = [probe_replies[g][0] - t for g, t in probe.items() if g in probe_replies]
        result["unloaded_end_to_end"] = {
            "messages": len(probe),
            "replied": len(pe2e),
            "rate_per_second": args.probe_rate,
            "p50_ms": round(pct(pe2e, 50) * 1000, 1),
            "p99_ms": round(pct(pe2e, 99) * 1000, 1),
            "max_ms": round(max(pe2e, default=0) * 1000, 1),
        }
        for g, ts in probe_replies.items():
            replies.setdefault(g, ts)
        all_sent.update(probe)
        lost = [g for g in all_sent if g not in replies]
        dup = [g for g, ts in replies.items() if len(ts) > 1]
        result["integrity"] = {
            "messages": len(all_sent),
            "replied": len(replies),
            "lost": len(lost),
            "duplicated": len(dup),
            "lost_examples": lost[:5],
        }
        result["machine"] = {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        }
        result["settings"] = {
            "per_level": args.per_level,
            "max_seconds": args.max_seconds,
            "worker_concurrency": args.worker_concurrency,
        }
        result["at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    finally:
        if stack is not None:
            await stack.__aexit__(None, None, None)
    return result


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--url",
        default="",
        help="webhook URL of a running deployment (default: start a local stack)",
    )
    p.add_argument(
        "--sim-url", default="http://127.0.0.1:8080/sim", help="simulator base (with --url)"
    )
    p.add_argument(
        "--no-envoy", action="store_true", help="local stack: post straight to the gateway"
    )
    p.add_argument(
        "--label", default="running mesh, through Envoy", help="what --url points at (chart title)"
    )
    p.add_argument("--levels", default="1,4,16,64", help="requests in flight per level")
    p.add_argument(
        "--per-level", type=int, default=400, help="webhooks per level (bound, < 100000)"
    )
    p.add_argument("--max-seconds", type=float, default=20.0, help="time bound per level")
    p.add_argument("--wait-seconds", type=float, default=90.0, help="time to wait for all replies")
    p.add_argument(
        "--probe-count", type=int, default=40, help="paced messages for unloaded end-to-end"
    )
    p.add_argument("--probe-rate", type=float, default=10.0, help="paced messages per second")
    p.add_argument("--pause", type=float, default=0.5, help="pause between levels")
    p.add_argument(
        "--worker-concurrency", type=int, default=16, help="local stack: gateway worker lanes"
    )
    p.add_argument("--out", default=str(ROOT / "bench/results/gateway.json"))
    args = p.parse_args()
    result = asyncio.run(main_async(args))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    png = out.with_suffix(".png")
    drew = chart(result, png)
    ok = result["integrity"]
    u = result["unloaded_end_to_end"]
    print(
        f"worker: {result['worker']['replies_per_second']} replies/s while draining; unloaded end-to-end "
        f"p50 {u['p50_ms']} ms, p99 {u['p99_ms']} ms ({u['replied']}/{u['messages']})"
    )
    print(
        f"end-to-end: {ok['replied']}/{ok['messages']} replied, lost {ok['lost']}, duplicated {ok['duplicated']}"
    )
    print(f"wrote {out}" + (f" and {png}" if drew else ""))
    raise SystemExit(0 if ok["lost"] == 0 and ok["duplicated"] == 0 else 1)


if __name__ == "__main__":
    main()
