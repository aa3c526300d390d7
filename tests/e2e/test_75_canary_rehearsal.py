"""`hotelctl canary` on the whole mesh: a healthy nlp canary is promoted, a failing one and a slow
one are rolled back, and guests chatting on WhatsApp the whole time lose no message and get no
reply twice.

Short steps (test mode: `--step/--interval/--window/--min-requests`), the real everything else:
Envoy's runtime weights, the AnalysisTemplate's PromQL against a real Prometheus scraping every
second. Besides the guests, a bounded Parse load through Envoy gives the canary enough requests
at 10 % to be judged.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
import pytest
from hotel.nlp.v1 import nlp_service_pb2 as nlp_pb
from hotel.nlp.v1 import nlp_service_pb2_grpc as nlp_grpc
from hotelctl.canary import Envoy
from posada_common.testing import trusted_sync_channel

from tests.e2e.conftest import RunningMesh, _env
from tests.e2e.sim_client import Guest

pytestmark = pytest.mark.e2e

DRILL_ARGS = ["--step", "10s", "--interval", "3s", "--window", "8s", "--min-requests", "5"]
PHRASES = ("hola", "¿tenéis piscina?", "¿a qué hora es el desayuno?", "gracias")


class Traffic:
    """Guests chatting and a steady Parse load, in threads, until stopped (bounded anyway)."""

    def __init__(self, mesh: RunningMesh, guests: int = 2, max_seconds: float = 420):
        self.mesh = mesh
        self.stop = threading.Event()
        self.deadline = time.monotonic() + max_seconds
        self.guests = [
            Guest(mesh.public_url, wa_id="3462" + str(uuid.uuid4().int)[:7], name=f"Canary {i}")
            for i in range(guests)
        ]
        self.sent: dict[str, list[str]] = {g.wa_id: [] for g in self.guests}
        self.unanswered: list[str] = []
        self.parse_calls = 0
        self.threads = [threading.Thread(target=self._chat, args=(g,)) for g in self.guests]
        # Four callers, so one waiting on a slow canary does not starve the others.
        self.threads += [threading.Thread(target=self._parse_load) for _ in range(4)]

    def __enter__(self) -> Traffic:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(120)

    def _running(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.deadline

    def _chat(self, guest: Guest) -> None:
        n = 0
        while self._running():
            wamid = f"wamid.canary-{uuid.uuid4().hex}"
            since = guest.last_seq()
            guest.say(PHRASES[n % len(PHRASES)], id=wamid)
            self.sent[guest.wa_id].append(wamid)
            if not guest.replies_after(since, settle=0.5, timeout=60):
                self.unanswered.append(wamid)
            n += 1

    def _parse_load(self) -> None:
        with trusted_sync_channel(self.mesh.mesh_address) as channel:
            stub = nlp_grpc.NlpServiceStub(channel)
            while self._running():
                # a drill's injected fault is the canary's analysis' business, not the load's
                with contextlib.suppress(grpc.RpcError):
                    stub.Parse(nlp_pb.ParseRequest(text="una habitación doble mañana"), timeout=5)
                self.parse_calls += 1
                time.sleep(0.08)


def _canary(mesh: RunningMesh, tmp_path: Path, *drill: str) -> tuple[int, dict[str, Any], str]:
    report = tmp_path / f"canary-{uuid.uuid4().hex[:6]}.json"
    env = _env(mesh.run_dir, 0)
    env["OTLP_ENDPOINT"] = ""
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "hotelctl"),
            *("canary", "nlp", *DRILL_ARGS, *drill, "--report", str(report)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(result.stdout)  # the step figures, for the log of the run
    return result.returncode, json.loads(report.read_text()), result.stdout + result.stderr


def _failed_metrics(report: dict[str, Any]) -> set[str]:
    return {m["metric"] for m in report["measurements"] if m["verdict"] == "Failed"}


@pytest.fixture(scope="module")
def drills(running_mesh: RunningMesh, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three rehearsals back to back while guests chat; their exit codes, reports and traffic."""
    tmp = tmp_path_factory.mktemp("canary")
    results: dict[str, Any] = {}
    with Traffic(running_mesh) as traffic:
        results["healthy"] = _canary(running_mesh, tmp)
        results["failing"] = _canary(running_mesh, tmp, "--inject-fault", "0.6")
        results["slow"] = _canary(running_mesh, tmp, "--inject-latency", "1.5s")
    results["traffic"] = traffic
    results["weight_after"] = Envoy(running_mesh.mesh).weight("nlp")
    return results


def test_a_healthy_canary_goes_through_every_step_and_is_promoted(drills: dict) -> None:
    code, report, out = drills["healthy"]
    assert code == 0, out
    assert report["outcome"] == "promoted"
    assert [s["weight"] for s in report["steps"]] == [10, 25, 50, 100]
    judged = [m for m in report["measurements"] if m["verdict"] == "Successful"]
    assert judged and not _failed_metrics(report)
    assert max(m["canary_requests"] for m in report["measurements"]) > 0


def test_a_failing_canary_is_rolled_back_on_its_success_rate(drills: dict) -> None:
    code, report, out = drills["failing"]
    assert code == 1, out
    assert report["outcome"] == "rolled_back"
    assert "grpc-success-rate" in _failed_metrics(report)
    assert 100 not in [s["weight"] for s in report["steps"]]


def test_a_slow_canary_is_rolled_back_on_its_p99(drills: dict) -> None:
    code, report, out = drills["slow"]
    assert code == 1, out
    assert report["outcome"] == "rolled_back"
    assert "grpc-p99-latency" in _failed_metrics(report)
    slow = [m["value"] for m in report["measurements"] if m["metric"] == "grpc-p99-latency"]
    assert max(v for v in slow if v is not None) > 0.5


def test_traffic_is_back_on_stable_and_the_canary_is_gone(
    drills: dict, running_mesh: RunningMesh
) -> None:
    assert drills["weight_after"] == 0
    envoy = Envoy(running_mesh.mesh)
    assert envoy.stat("cluster.nlp_canary_grpc.membership_healthy") == 0 or _eventually_unhealthy(
        envoy
    )
    targets = json.loads(
        (running_mesh.run_dir / "prometheus" / "targets" / "nlp-canary.json").read_text()
    )
    assert targets == []


def _eventually_unhealthy(envoy: Envoy) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if envoy.stat("cluster.nlp_canary_grpc.membership_healthy") == 0:
            return True
        time.sleep(0.5)
    return False


def test_guests_chatting_throughout_lost_no_message_and_got_no_duplicate(
    drills: dict, running_mesh: RunningMesh
) -> None:
    traffic: Traffic = drills["traffic"]
    sent = [w for ids in traffic.sent.values() for w in ids]
    assert len(sent) >= 6, "too little chat to prove anything"
    assert traffic.parse_calls > 100
    # A turn that met the failing canary may be answered late (the gateway retries it with
    # backoff): late is allowed, lost is not. Wait, bounded, for every message's answer.
    deadline = time.monotonic() + 150
    while True:
        missing, twice = _audit(traffic)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not missing, f"no reply to {missing} (slow at first: {traffic.unanswered})"
    assert not twice, f"sent twice: {twice}"


def _audit(traffic: Traffic) -> tuple[list[str], set[str]]:
    """(guest messages with no reply, reply parts sent more than once), from the outbox.

    The gateway tags every reply part with "<inbound wamid>|<reply key>" (WhatsApp echoes it in
    status webhooks): which message it answers, and whether it went out twice.
    """
    missing: list[str] = []
    twice: set[str] = set()
    for guest in traffic.guests:
        tags = [
            (e.get("body") or {}).get("biz_opaque_callback_data", "")
            for e in guest.outbox(0)
            if e.get("type") not in (None, "read")
        ]
        tags = [t for t in tags if t]
        answered = {t.split("|", 1)[0] for t in tags}
        missing += [w for w in traffic.sent[guest.wa_id] if w not in answered]
        twice |= {t for t in tags if tags.count(t) > 1}
    return missing, twice


def test_canary_refuses_an_unknown_service(running_mesh: RunningMesh) -> None:
    env = _env(running_mesh.run_dir, 0)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "hotelctl"), "canary", "spa"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "unknown service 'spa'" in result.stderr
    assert os.path.exists(running_mesh.run_dir / "state.json")
