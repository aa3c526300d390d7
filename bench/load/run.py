"""Open-loop load on the whole mesh: guests arrive at fixed rates, stepped up to the knee.

    .venv/bin/python bench/load/run.py                      # starts its own mesh (offset 13200)
    .venv/bin/python bench/load/run.py --public-url http://127.0.0.1:20080 --run-dir DIR
                                                            # a mesh already running (make bench)

Open loop: every step sends new guests at a fixed arrival rate (exponential inter-arrival
times, seeded), whether or not earlier ones were answered, so a slow mesh shows up as growing
latency instead of a politely slower client. The mix per arriving guest: text questions, a
share of availability/booking requests (nlp + PMS through the QloApps stand-in) and a share of
voice notes (synthesised once by the audio service, transcribed by it on every message). Each
guest writes once; every message must get exactly one reply (zero loss, zero duplicates).

Measured per step: webhook acknowledgement latency (client side, POST → 200 through Envoy's
public listener), webhook → reply latency (POST → the reply in the WhatsApp simulator's outbox,
same clock), replies per second, CPU per service (psutil, share of one core), and the per-hop
breakdown from the services' own Prometheus histograms (gateway ack, queue wait, HandleMessage
as the gateway sees it, conversation's turn, nlp, pms, audio, Graph sends).

Stepping stops at the knee: the first step whose replies fall behind the offered rate (< 90 %),
whose reply p99 exceeds `--knee-p99-ms`, or that loses messages. Bounded: the whole run stays
under `--max-seconds` (default 270 s) including the drain, loopback only. Writes JSON and a PNG
to bench/results/load.{json,png}.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# The mesh's webhook secret and business number: from the environment (make bench passes the
# mesh's env), else what `hotelctl up` uses in development.
SECRET = ""
PNID = ""


def configure(env: dict[str, str]) -> None:
    global SECRET, PNID
    try:
        from hotelctl.runner import DEV_DEFAULTS
    except ImportError:
        DEV_DEFAULTS = {}
    SECRET = env.get("WHATSAPP_APP_SECRET") or DEV_DEFAULTS.get("WHATSAPP_APP_SECRET", "")
    PNID = env.get("WHATSAPP_PHONE_NUMBER_ID") or DEV_DEFAULTS.get(
        "WHATSAPP_PHONE_NUMBER_ID", "1098765432101"
    )


TEXTS = [
    "Hola, ¿a qué hora es el check-in?",
    "¿Tenéis parking en el hotel?",
    "Hi, is breakfast included?",
    "Olá, aceitam animais de estimação?",
    "¿Cuál es la dirección del hotel?",
    "What time is check-out?",
]
BOOKINGS = [
    "Quiero reservar una habitación doble del {a} al {b} para 2 personas",
    "Do you have a room from {a} to {b} for two adults?",
    "Queria reservar um quarto de {a} a {b} para 2 pessoas",
]


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def sign(raw: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()


def webhook(guest: str, wamid: str, message: dict[str, Any]) -> bytes:
    msg = {"from": guest, "id": wamid, "timestamp": str(int(time.time())), **message}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550101234", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Load Guest"}, "wa_id": guest}],
        "messages": [msg],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass
class Sent:
    kind: str
    posted: float  # wall clock when the POST left
    ack_ms: float = -1.0
    status: int = 0


@dataclass
class Step:
    rate: float
    seconds: float
    sent: dict[str, Sent] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    hops_before: dict[str, tuple[float, float]] = field(default_factory=dict)
    hops_after: dict[str, tuple[float, float]] = field(default_factory=dict)


# ── metrics scraping (per-hop breakdown) ──────────────────────────────────────────────────────
HOPS = {
    "gateway ack (webhook → 200)": ("gateway", "posada_gateway_webhook_seconds", {}),
    "gateway accept → done": ("gateway", "posada_gateway_end_to_end_seconds", {}),
    "gateway take → done": ("gateway", "posada_gateway_process_seconds", {}),
    "HandleMessage (gateway side)": ("gateway", "posada_gateway_conversation_seconds", {}),
    "Graph send (one exchange)": ("gateway", "posada_gateway_send_seconds", {}),
    "conversation turn": ("conversation", "posada_conversation_turn_seconds", {}),
    "nlp Parse": (
        "nlp",
        "posada_grpc_server_handling_seconds",
        {"grpc_method": "Parse"},
    ),
    "pms (all RPCs)": ("pms", "posada_grpc_server_handling_seconds", {}),
    "audio Transcribe": (
        "audio",
        "posada_grpc_server_handling_seconds",
        {"grpc_method": "Transcribe"},
    ),
}


def parse_histograms(text: str) -> dict[tuple[str, str], tuple[float, float]]:
    """(metric, labels) → (sum, count) from Prometheus text (only _sum/_count lines)."""
    out: dict[tuple[str, str], list[float]] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        name_labels, _, value = line.rpartition(" ")
        name, _, labels = name_labels.partition("{")
        for suffix, idx in (("_sum", 0), ("_count", 1)):
            if name.endswith(suffix):
                key = (name[: -len(suffix)], labels.rstrip("}"))
                out.setdefault(key, [0.0, 0.0])[idx] = float(value)
    return {k: (v[0], v[1]) for k, v in out.items()}


async def scrape(
    session: aiohttp.ClientSession, ports: dict[str, int]
) -> dict[str, tuple[float, float]]:
    texts: dict[str, str] = {}
    for service, port in ports.items():
        try:
            async with session.get(
                f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=5)
            ) as r:
                texts[service] = await r.text()
        except (aiohttp.ClientError, TimeoutError):
            texts[service] = ""
    parsed = {s: parse_histograms(t) for s, t in texts.items()}
    hops: dict[str, tuple[float, float]] = {}
    for hop, (service, metric, want) in HOPS.items():
        total, count = 0.0, 0.0
        for (name, labels), (s, c) in parsed.get(service, {}).items():
            if name != metric:
                continue
            if all(f'{k}="{v}"' in labels for k, v in want.items()):
                total += s
                count += c
        hops[hop] = (total, count)
    return hops


# ── CPU per service ──────────────────────────────────────────────────────────────────────────
class CpuMeter:
    def __init__(self, pids: dict[str, int]):
        import psutil

        self.procs = {}
        for name, pid in pids.items():
            try:
                self.procs[name] = psutil.Process(pid)
            except psutil.Error:
                continue
        self.start: dict[str, float] = {}
        self.t0 = 0.0

    def _times(self) -> dict[str, float]:
        import psutil

        out = {}
        for name, p in self.procs.items():
            try:
                t = p.cpu_times()
                total = t.user + t.system
                for child in p.children(recursive=True):
                    with_child = child.cpu_times()
                    total += with_child.user + with_child.system
                out[name] = total
            except psutil.Error:
                out[name] = self.start.get(name, 0.0)
        return out

    def begin(self) -> None:
        self.start, self.t0 = self._times(), time.monotonic()

    def end(self) -> dict[str, float]:
        now, dt = self._times(), max(1e-6, time.monotonic() - self.t0)
        return {n: round(100 * (now[n] - self.start.get(n, 0.0)) / dt, 1) for n in now}


# ── load ─────────────────────────────────────────────────────────────────────────────────────
class Load:
    def __init__(self, args: argparse.Namespace, public: str, voice_media: dict[str, str] | None):
        self.args = args
        self.url = f"{public}/webhooks/whatsapp"
        self.sim = f"{public}/sim"
        self.voice = voice_media
        self.rng = random.Random(args.seed)
        self.tag = uuid.uuid4().hex[:4].translate(str.maketrans("abcdef", "123456"))
        self.n = 0
        self.replies: dict[str, list[float]] = {}
        # provider-side idempotency value of every reply part seen → times it was sent
        self.parts: dict[str, int] = {}
        self.since = 0

    def next_message(self) -> tuple[str, str, dict[str, Any]]:
        self.n += 1
        guest = f"4917{self.tag}{self.n:06d}"
        r = self.rng.random()
        if self.voice and r < self.args.voice_share:
            kind = "voice"
            message = {"type": "audio", "audio": {**self.voice, "voice": True}}
        elif r < self.args.voice_share + self.args.booking_share:
            kind = "booking"
            day = 10 + self.rng.randrange(15)
            text = self.rng.choice(BOOKINGS).format(a=f"{day}/03/2027", b=f"{day + 2}/03/2027")
            message = {"type": "text", "text": {"body": text}}
        else:
            kind = "text"
            message = {"type": "text", "text": {"body": self.rng.choice(TEXTS)}}
        return guest, kind, message

    async def post(self, session: aiohttp.ClientSession, step: Step) -> None:
        guest, kind, message = self.next_message()
        raw = webhook(guest, f"wamid.LOAD{self.tag}{self.n:07d}", message)
        sent = Sent(kind, time.time())
        step.sent[guest] = sent
        t0 = time.perf_counter()
        try:
            async with session.post(
                self.url,
                data=raw,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw)},
            ) as resp:
                await resp.read()
                sent.status = resp.status
        except (aiohttp.ClientError, TimeoutError):
            sent.status = -1
        sent.ack_ms = (time.perf_counter() - t0) * 1000

    async def run_step(self, session: aiohttp.ClientSession, step: Step) -> None:
        """Arrivals at `step.rate` per second for `step.seconds` (open loop)."""
        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        t = 0.0
        while True:
            t += self.rng.expovariate(step.rate)
            if t >= step.seconds:
                break
            delay = start + t - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.post(session, step)))
        await asyncio.gather(*tasks)

    async def poll_replies(self, session: aiohttp.ClientSession, wanted: set[str]) -> None:
        async with session.get(
            f"{self.sim}/outbox",
            params={"endpoint": "messages", "since": str(self.since)},
            timeout=aiohttp.ClientTimeout(total=30),
        ) as r:
            rows = await r.json(content_type=None)
        for row in rows:
            self.since = max(self.since, int(row["seq"]))
            to = str(row.get("to") or "").lstrip("+")
            if to in wanted and row["response"]["status"] == 200 and row.get("wamid"):
                body = row.get("body") or {}
                if body.get("type") == "template":
                    continue
                # One guest message can be answered with several parts (text + buttons); a
                # duplicate is the same part (same callback data) sent twice.
                part = str(body.get("biz_opaque_callback_data") or f"{to}|{row['seq']}")
                self.parts[part] = self.parts.get(part, 0) + 1
                self.replies.setdefault(to, []).append(float(row["at"]))


async def synthesise_voice(
    mesh_address: str, session: aiohttp.ClientSession, sim: str
) -> dict[str, str] | None:
    """One short Spanish voice note from the audio service, stored in the simulator."""
    try:
        from hotel.audio.v1 import audio_service_pb2 as audio_pb
        from hotel.audio.v1 import audio_service_pb2_grpc as audio_grpc
        from posada_common.clients import dial

        async with dial(mesh_address) as channel:
            reply = await audio_grpc.AudioServiceStub(channel).Synthesize(
                audio_pb.SynthesizeRequest(
                    text="¿A qué hora es el desayuno?",
                    voice="es",
                    format=audio_pb.AUDIO_FORMAT_OGG_OPUS,
                ),
                timeout=60,
            )
        form = aiohttp.FormData()
        form.add_field("file", reply.audio, filename="note.ogg", content_type="audio/ogg")
        form.add_field("type", "audio/ogg; codecs=opus")
        async with session.post(f"{sim}/media", data=form) as r:
            media = await r.json(content_type=None)
        digest = base64.b64encode(hashlib.sha256(reply.audio).digest()).decode()
        return {"id": media["id"], "mime_type": "audio/ogg; codecs=opus", "sha256": digest}
    except Exception as exc:  # the load still runs, without voice notes
        print(f"» voice notes disabled: {type(exc).__name__}: {exc}", flush=True)
        return None


def summarise(step: Step, replies: dict[str, list[float]]) -> dict[str, Any]:
    acked = [s for s in step.sent.values() if s.status == 200]
    ack = [s.ack_ms for s in acked]
    e2e = {g: (replies[g][0] - s.posted) * 1000 for g, s in step.sent.items() if g in replies}
    by_kind: dict[str, list[float]] = {}
    for g, ms in e2e.items():
        by_kind.setdefault(step.sent[g].kind, []).append(ms)
    first = min((s.posted for s in step.sent.values()), default=0.0)
    last_reply = max((replies[g][0] for g in e2e), default=first)
    hops = {}
    for hop, (s1, c1) in step.hops_after.items():
        s0, c0 = step.hops_before.get(hop, (0.0, 0.0))
        if c1 - c0 > 0:
            hops[hop] = {"count": int(c1 - c0), "mean_ms": round((s1 - s0) / (c1 - c0) * 1000, 2)}
    return {
        "offered_rate": step.rate,
        "seconds": step.seconds,
        "sent": len(step.sent),
        "acked": len(acked),
        "ack_errors": len(step.sent) - len(acked),
        "achieved_ack_rate": round(len(acked) / step.seconds, 1),
        "replied": len(e2e),
        "lost": len([g for g in step.sent if g not in replies]),
        "reply_throughput": round(len(e2e) / max(1e-6, last_reply - first), 1) if e2e else 0.0,
        "ack_ms": {p: round(pct(ack, q), 2) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))},
        "reply_ms": {
            p: round(pct(list(e2e.values()), q), 1)
            for p, q in (("p50", 50), ("p95", 95), ("p99", 99))
        },
        "reply_ms_by_kind": {
            k: {"n": len(v), "p50": round(pct(v, 50), 1), "p99": round(pct(v, 99), 1)}
            for k, v in sorted(by_kind.items())
        },
        "cpu_percent_of_one_core": step.cpu,
        "hops_mean_ms": hops,
    }


def chart(result: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    steps = result["steps"]
    x = [s["offered_rate"] for s in steps]
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4.4))
    a1.plot(x, x, ls=":", color="grey", label="offered")
    a1.plot(x, [s["reply_throughput"] for s in steps], marker="o", label="replies/s")
    a1.plot(x, [s["achieved_ack_rate"] for s in steps], marker="^", label="acks/s")
    a1.set_xlabel("offered guests / s")
    a1.set_ylabel("per second")
    a1.set_title("Throughput")
    a1.legend(fontsize=8)
    a1.grid(alpha=0.3)
    for q, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
        a2.plot(x, [s["reply_ms"][q] for s in steps], marker="o", ls=style, label=f"reply {q}")
        a2.plot(x, [s["ack_ms"][q] for s in steps], marker="^", ls=style, label=f"ack {q}")
    a2.set_yscale("log")
    a2.set_xlabel("offered guests / s")
    a2.set_ylabel("ms")
    a2.set_title("Latency (webhook → reply, ack)")
    a2.legend(fontsize=7)
    a2.grid(alpha=0.3, which="both")
    names = sorted({n for s in steps for n in s["cpu_percent_of_one_core"]})
    for n in names:
        a3.plot(x, [s["cpu_percent_of_one_core"].get(n, 0) for s in steps], marker="o", label=n)
    a3.set_xlabel("offered guests / s")
    a3.set_ylabel("% of one core")
    a3.set_title("CPU per service")
    a3.legend(fontsize=7)
    a3.grid(alpha=0.3)
    fig.suptitle(
        f"Posada open-loop load: knee {result['knee']['offered_rate']} guests/s "
        f"({result['knee']['reason']}); lost {result['integrity']['lost']}, "
        f"duplicated {result['integrity']['duplicated']}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


@dataclass
class Target:
    public: str
    mesh_address: str
    offset: int
    pids: dict[str, int]


def target_from_args(args: argparse.Namespace) -> Target:
    """A running mesh (`--public-url`, pids from its run folder's state.json)."""
    state_path = Path(args.run_dir) / "state.json" if args.run_dir else None
    state = json.loads(state_path.read_text()) if state_path and state_path.exists() else {}
    return Target(
        public=args.public_url.rstrip("/"),
        mesh_address=state.get("mesh_address", args.mesh_address),
        offset=int(state.get("offset", args.offset)),
        pids={n: p["pid"] for n, p in state.get("processes", {}).items()},
    )


async def main_async(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    deadline = time.monotonic() + args.max_seconds
    public, mesh_address, offset, pids = (
        target.public,
        target.mesh_address,
        target.offset,
        target.pids,
    )
    from hotelctl.mesh import load_mesh

    mesh = load_mesh(offset=offset)
    metrics_ports = {name: spec.metrics_port for name, spec in mesh.services.items()}
    result: dict[str, Any] = {"target": public, "steps": []}
    try:
        conn = aiohttp.TCPConnector(limit=512)
        async with aiohttp.ClientSession(
            connector=conn, timeout=aiohttp.ClientTimeout(total=30)
        ) as session:
            voice = (
                await synthesise_voice(mesh_address, session, f"{public}/sim")
                if args.voice_share > 0
                else None
            )
            load = Load(args, public, voice)
            meter = CpuMeter(pids)
            rates = [float(r) for r in args.rates.split(",") if r.strip()]
            all_sent: dict[str, Sent] = {}
            knee = {"offered_rate": rates[-1], "reason": "not reached"}
            for rate in rates:
                if time.monotonic() + args.step_seconds + args.drain_seconds > deadline:
                    knee = {"offered_rate": rate, "reason": "time budget"}
                    break
                step = Step(rate=rate, seconds=args.step_seconds)
                step.hops_before = await scrape(session, metrics_ports)
                meter.begin()
                await load.run_step(session, step)
                # Let this step's replies arrive (bounded), then measure it.
                wanted = set(step.sent)
                drain_until = time.monotonic() + args.drain_seconds
                while time.monotonic() < drain_until:
                    await load.poll_replies(session, wanted)
                    if all(g in load.replies for g in wanted):
                        break
                    await asyncio.sleep(0.2)
                step.cpu = meter.end()
                step.hops_after = await scrape(session, metrics_ports)
                summary = summarise(step, load.replies)
                result["steps"].append(summary)
                all_sent.update(step.sent)
                print(
                    f"» {rate:>6.1f}/s offered: acks {summary['achieved_ack_rate']}/s "
                    f"(p99 {summary['ack_ms']['p99']} ms), replies {summary['reply_throughput']}/s, "
                    f"reply p50/p95/p99 {summary['reply_ms']['p50']}/{summary['reply_ms']['p95']}/"
                    f"{summary['reply_ms']['p99']} ms, lost {summary['lost']}, cpu {summary['cpu_percent_of_one_core']}",
                    flush=True,
                )
                offered = summary["sent"] / step.seconds
                behind = summary["reply_throughput"] < 0.9 * offered
                slow = summary["reply_ms"]["p99"] > args.knee_p99_ms
                if behind or slow or summary["lost"] or summary["ack_errors"]:
                    reason = (
                        "replies fell behind the arrival rate"
                        if behind
                        else f"reply p99 over {args.knee_p99_ms:.0f} ms"
                        if slow
                        else "messages lost or refused"
                    )
                    knee = {"offered_rate": rate, "reason": reason}
                    break
            # Final drain: whatever is still on its way must arrive exactly once.
            final_until = min(deadline, time.monotonic() + args.final_drain_seconds)
            while time.monotonic() < final_until and not all(g in load.replies for g in all_sent):
                await load.poll_replies(session, set(all_sent))
                await asyncio.sleep(0.3)
            await asyncio.sleep(0.5)
            await load.poll_replies(session, set(all_sent))
        below = [s for s in result["steps"] if s["offered_rate"] < knee["offered_rate"]]
        result["knee"] = knee
        result["best_below_knee"] = (
            max(below, key=lambda s: s["reply_throughput"]) if below else None
        )
        lost = [g for g in all_sent if g not in load.replies]
        dup = [
            p for p, n in load.parts.items() if n > 1 and p.split("|")[0].startswith("wamid.LOAD")
        ]
        result["integrity"] = {
            "messages": len(all_sent),
            "replied": len(all_sent) - len(lost),
            "lost": len(lost),
            "duplicated": len(dup),
            "lost_examples": lost[:5],
            "duplicated_examples": dup[:5],
            "reply_parts": sum(load.parts.values()),
        }
        result["mix"] = {
            "voice_share": args.voice_share if voice else 0.0,
            "booking_share": args.booking_share,
        }
        result["machine"] = {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
        }
        result["settings"] = {k: v for k, v in vars(args).items() if k not in ("out",)}
        result["at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    finally:
        print("» load finished", flush=True)
    return result


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--public-url", default="", help="Envoy public listener of a running mesh")
    p.add_argument("--run-dir", default="", help="that mesh's run folder (state.json: pids)")
    p.add_argument("--mesh-address", default="127.0.0.1:9000")
    p.add_argument("--offset", type=int, default=13200, help="port offset of the mesh it starts")
    p.add_argument(
        "--rates", default="10,20,40,70,100,150,200", help="arrivals per second, stepped"
    )
    p.add_argument("--step-seconds", type=float, default=15.0)
    p.add_argument("--drain-seconds", type=float, default=15.0)
    p.add_argument(
        "--final-drain-seconds", type=float, default=60.0, help="wait for late replies at the end"
    )
    p.add_argument("--max-seconds", type=float, default=270.0, help="bound of the whole run")
    p.add_argument("--knee-p99-ms", type=float, default=1000.0)
    p.add_argument("--voice-share", type=float, default=0.02)
    p.add_argument("--booking-share", type=float, default=0.15)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", default=str(ROOT / "bench/results/load.json"))
    args = p.parse_args()
    if args.public_url:
        configure(dict(os.environ))
        result = asyncio.run(main_async(args, target_from_args(args)))
    else:
        from hotelctl.runner import start_mesh

        with tempfile.TemporaryDirectory(prefix="posada-load-") as tmp:
            print(f"» starting a mesh on port offset {args.offset}", flush=True)
            run = start_mesh(run_dir=Path(tmp), offset=args.offset)
            configure({**os.environ, **run.env})
            try:
                target = Target(
                    public=f"http://127.0.0.1:{run.mesh.public_port}",
                    mesh_address=f"127.0.0.1:{run.mesh.mesh_port}",
                    offset=args.offset,
                    pids={p.name: p.pid for p in run.processes if p.pid},
                )
                result = asyncio.run(main_async(args, target))
            finally:
                run.stop()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    drew = chart(result, out.with_suffix(".png"))
    ok = result["integrity"]
    print(f"» knee: {result['knee']}; integrity: {ok}")
    print(f"» wrote {out}" + (f" and {out.with_suffix('.png')}" if drew else ""))
    raise SystemExit(0 if ok["lost"] == 0 and ok["duplicated"] == 0 else 1)


if __name__ == "__main__":
    main()
