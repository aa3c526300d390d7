"""E-mail benchmark through the whole mesh: guest e-mails answered per second and
e-mail → reply latency, measured at the Gmail stand-in.

A guest e-mail is dropped into the hotel's inbox with users.messages.import; the stand-in
pushes to the gateway through Envoy (at most one notification per second, like Gmail, so
e-mails arriving together are synced together); the reply is the SENT message that appears in
the guest's thread. Latency = reply's internalDate − import time (same clock). Two phases,
both bounded: one e-mail at a time (latency), then a burst (throughput).

    python bench/email/run.py                       # starts its own mesh (offset 14700)
    python bench/email/run.py --gmail-url http://127.0.0.1:8093   # against a running mesh
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "email.json"
TOKEN = "dev-gmail-token"
QUESTIONS = [
    "Hola, ¿tienen parking?",
    "¿A qué hora es el desayuno?",
    "Hello, do you allow pets?",
    "Olá, qual é o horário do check-in?",
]


def call(base: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read() or b"null")


def send_one(base: str, hotel: str, i: int) -> tuple[str, float]:
    msg = EmailMessage()
    msg["From"] = f"Bench Guest {i} <bench.{uuid.uuid4().hex[:10]}@example.org>"
    msg["To"] = hotel
    msg["Subject"] = f"Pregunta {i}"
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content(QUESTIONS[i % len(QUESTIONS)])
    t0 = time.time()
    added = call(
        base,
        "POST",
        "/gmail/v1/users/me/messages/import",
        {"raw": base64.urlsafe_b64encode(msg.as_bytes()).decode()},
    )
    return added["threadId"], t0


def wait_replies(base: str, sent: dict[str, float], timeout: float) -> dict[str, float]:
    """threadId → reply internalDate (s), polling each outstanding thread."""
    done: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(sent) and time.monotonic() < deadline:
        for tid in [t for t in sent if t not in done]:
            thread = call(base, "GET", f"/gmail/v1/users/me/threads/{tid}?format=minimal")
            replies = [m for m in thread["messages"] if "SENT" in m["labelIds"]]
            if replies:
                done[tid] = int(replies[0]["internalDate"]) / 1000
        time.sleep(0.05)
    return done


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else 0.0


def phase_latency(base: str, hotel: str, count: int) -> dict[str, Any]:
    lat = []
    for i in range(count):
        tid, t0 = send_one(base, hotel, i)
        got = wait_replies(base, {tid: t0}, 60)
        if tid in got:
            lat.append((got[tid] - t0) * 1000)
        print(
            f"  latency {i + 1}/{count}: {lat[-1]:.0f} ms" if tid in got else "  no reply",
            flush=True,
        )
    return {
        "emails": count,
        "answered": len(lat),
        "p50_ms": round(pct(lat, 0.5), 1),
        "p90_ms": round(pct(lat, 0.9), 1),
        "max_ms": round(max(lat), 1) if lat else 0,
        "mean_ms": round(statistics.mean(lat), 1) if lat else 0,
    }


def phase_burst(base: str, hotel: str, count: int, concurrency: int) -> dict[str, Any]:
    t_start = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        sent = dict(pool.map(lambda i: send_one(base, hotel, 1000 + i), range(count)))
    t_sent = time.time()
    got = wait_replies(base, sent, 180)
    lat = [(got[t] - sent[t]) * 1000 for t in got]
    span = (max(got.values()) - t_start) if got else 0.0
    return {
        "emails": count,
        "import_concurrency": concurrency,
        "answered": len(got),
        "lost": count - len(got),
        "imports_per_s": round(count / max(1e-9, t_sent - t_start), 1),
        "answered_per_s": round(len(got) / span, 2) if span else 0,
        "p50_ms": round(pct(lat, 0.5), 1),
        "p90_ms": round(pct(lat, 0.9), 1),
        "max_ms": round(max(lat), 1) if lat else 0,
    }


def set_push_interval(base: str, ms: int) -> None:
    request = urllib.request.Request(
        f"{base}/control/config",
        data=json.dumps({"push_min_interval_ms": ms}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gmail-url", default="")
    parser.add_argument("--hotel", default="reservas@posada-demo.example")
    parser.add_argument("--offset", type=int, default=14700)
    parser.add_argument("--sequential", type=int, default=15)
    parser.add_argument("--burst", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    run = None
    base = args.gmail_url
    tmp = None
    if not base:
        sys.path.insert(0, str(ROOT))
        from hotelctl.runner import start_mesh

        tmp = tempfile.TemporaryDirectory(prefix="posada-bench-email-")
        print(f"» starting a mesh on port offset {args.offset}", flush=True)
        run = start_mesh(run_dir=Path(tmp.name), offset=args.offset)
        base = f"http://127.0.0.1:{run.mesh.simulators['gmail']['http_port']}"
    try:
        send_one(base, args.hotel, -1)  # warm-up (first turn loads models and caches)
        time.sleep(3)
        print(f"» sequential: {args.sequential} e-mails one at a time", flush=True)
        latency = phase_latency(base, args.hotel, args.sequential)
        print(f"» burst: {args.burst} e-mails, {args.concurrency} importing at once", flush=True)
        burst = phase_burst(base, args.hotel, args.burst, args.concurrency)
        # The same without Gmail's one-push-per-second limit: what the mesh itself takes.
        set_push_interval(base, 0)
        print("» sequential, stand-in pushing at once (no 1/s limit)", flush=True)
        unthrottled = phase_latency(base, args.hotel, args.sequential)
        print("» burst, stand-in pushing at once (no 1/s limit)", flush=True)
        burst_unthrottled = phase_burst(base, args.hotel, args.burst, args.concurrency)
        set_push_interval(base, 1000)
    finally:
        if run is not None:
            run.stop()
        if tmp is not None:
            tmp.cleanup()
    result = {
        "benchmark": "email",
        "what": "guest e-mail (users.messages.import) → reply in the thread (messages.send), "
        "whole mesh through Envoy, Gmail stand-in pushing at most once per second",
        "machine": "2 cores, shared",
        "sequential": latency,
        "burst": burst,
        "sequential_no_push_limit": unthrottled,
        "burst_no_push_limit": burst_unthrottled,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    ok = all(p["answered"] == p["emails"] for p in (latency, burst, unthrottled, burst_unthrottled))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
