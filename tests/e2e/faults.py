"""Tools of the whole-mesh fault suite: inject a fault into the running mesh, have guests write
through the WhatsApp simulator meanwhile, and check what every guest finally got.

The simulator is driven on its own loopback port (not through Envoy's public listener), so the
suite keeps working where dev tools are kept off the public path. What counts:

- an inbound message is *accepted* when one of the simulator's webhook deliveries of it got a
  200 from the mesh (Meta-like redelivery included);
- it is *answered* when at least one outbound message (not the holding "one moment") was sent
  for it: the gateway tags each send with `biz_opaque_callback_data = "<inbound id>|<reply>"`;
- *exactly once*: no reply of it was accepted by the Graph API twice.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hotelctl.health import check_all

from tests.e2e.conftest import RunningMesh

RECOVERY_TIMEOUT = 90.0
ANSWER_TIMEOUT = 90.0


def _http(method: str, url: str, body: Any = None, timeout: float = 15.0) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        raw = reply.read()
    return json.loads(raw) if raw else None


def wait_for(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.25
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class Bench:
    """The running mesh seen from outside: simulator, QloApps stand-in, processes, health."""

    mesh: RunningMesh
    sent: dict[str, str] = field(default_factory=dict)  # inbound wamid → guest wa_id

    @property
    def sim(self) -> str:
        return f"http://127.0.0.1:{self.mesh.mesh.whatsapp_sim_port}/sim"

    @property
    def qloapps(self) -> str:
        return f"http://127.0.0.1:{self.mesh.mesh.qloapps_port}"

    # -- guests ----------------------------------------------------------------------------

    def send(self, wa_id: str, spec: dict[str, Any]) -> str:
        reply = _http(
            "POST",
            f"{self.sim}/inbound",
            {"from": wa_id, "name": "Fault Guest", **spec, "wait": False},
        )
        wamid = str(reply["wamid"])
        self.sent[wamid] = wa_id
        return wamid

    def say(self, wa_id: str, text: str) -> str:
        return self.send(wa_id, {"type": "text", "text": text})

    def turn(self, wa_id: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one message and wait for its answer: the outbound bodies sent for it."""
        wamid = self.send(wa_id, spec)
        self.assert_answered_exactly_once([wamid], f"turn {spec}")
        return self.bodies_for(wamid)

    def bodies_for(self, wamid: str) -> list[dict[str, Any]]:
        out = []
        for rec in _http("GET", f"{self.sim}/outbox?endpoint=messages"):
            body = rec.get("body") if isinstance(rec.get("body"), dict) else {}
            callback = str(body.get("biz_opaque_callback_data") or "")
            ok = (rec.get("response") or {}).get("status") == 200
            if ok and callback.startswith(f"{wamid}|") and not callback.endswith(":hold"):
                out.append(body)
        return out

    def voice(self, wa_id: str, ogg: bytes) -> str:
        audio = {
            "data_base64": base64.b64encode(ogg).decode(),
            "mime_type": "audio/ogg; codecs=opus",
        }
        return self.send(wa_id, {"type": "voice", "audio": audio})

    def all_say(self, guests: Iterable[str], text: str) -> list[str]:
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda g: self.say(g, text), guests))

    # -- what the simulator saw ------------------------------------------------------------

    def accepted(self, wamids: Iterable[str]) -> set[str]:
        """Inbound ids of which a webhook delivery was answered 200 by the mesh."""
        wanted = set(wamids)
        deliveries = _http("GET", f"{self.sim}/webhooks")
        ok: set[str] = set()
        for d in deliveries:
            if d.get("kind") != "message" or not wanted.intersection(d.get("wamids") or []):
                continue
            statuses = [a.get("status") for a in d.get("attempts") or []]
            if 200 in statuses:
                ok.update(wanted.intersection(d["wamids"]))
        return ok

    def pending_deliveries(self, wamids: Iterable[str]) -> set[str]:
        """Inbound ids whose webhook the simulator is still (re)delivering."""
        wanted = set(wamids)
        deliveries = _http("GET", f"{self.sim}/webhooks")
        return {
            w
            for d in deliveries
            if d.get("kind") == "message" and d.get("state") == "pending"
            for w in wanted.intersection(d.get("wamids") or [])
        }

    def sends(self) -> list[tuple[str, str]]:
        """(inbound id, reply key) of every outbound message the Graph API accepted."""
        out = []
        for rec in _http("GET", f"{self.sim}/outbox?endpoint=messages"):
            if (rec.get("response") or {}).get("status") != 200:
                continue
            body = rec.get("body") if isinstance(rec.get("body"), dict) else {}
            callback = str(body.get("biz_opaque_callback_data") or "")
            if "|" in callback:
                inbound, key = callback.split("|", 1)
                out.append((inbound, key))
        return out

    def texts_to(self, wa_id: str, since: int = 0) -> list[str]:
        texts = []
        for rec in _http("GET", f"{self.sim}/outbox?endpoint=messages&to={wa_id}&since={since}"):
            body = rec.get("body") if isinstance(rec.get("body"), dict) else {}
            if body.get("type") == "text":
                texts.append(body["text"]["body"])
            elif body.get("type") == "interactive":
                texts.append(body["interactive"].get("body", {}).get("text", ""))
        return texts

    def assert_answered_exactly_once(self, wamids: list[str], what: str) -> None:
        """Every accepted message gets an answer (not just 'one moment'), no reply twice."""

        def unanswered() -> set[str]:
            accepted = self.accepted(wamids)
            answered = {i for i, key in self.sends() if not key.endswith(":hold")}
            return accepted - answered

        def settled() -> bool:
            return not self.pending_deliveries(wamids) and not unanswered()

        try:
            wait_for(settled, ANSWER_TIMEOUT, f"answers after {what}", interval=0.5)
        except AssertionError:
            raise AssertionError(
                f"{what}: accepted but unanswered {sorted(unanswered())}; "
                f"still being delivered {sorted(self.pending_deliveries(wamids))}"
            ) from None
        accepted = self.accepted(wamids)
        assert accepted, f"{what}: the mesh accepted none of {len(wamids)} messages"
        twice = {
            (i, k): n for (i, k), n in Counter(self.sends()).items() if n > 1 and i in set(wamids)
        }
        assert not twice, f"{what}: replies sent more than once: {twice}"
        holds = Counter(i for i, k in self.sends() if k.endswith(":hold") and i in set(wamids))
        assert all(n == 1 for n in holds.values()), f"{what}: holding reply repeated: {holds}"

    # -- processes and health --------------------------------------------------------------

    def pid(self, name: str) -> int:
        return int(self.mesh.state()["processes"][name]["pid"])

    def restarts(self, name: str) -> int:
        return int(self.mesh.state()["processes"][name].get("restarts", 0))

    def kill9(self, name: str) -> int:
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        return pid

    def pause(self, name: str, seconds_until: Callable[[], None]) -> None:
        """SIGSTOP a process (and its group: workers too) while `seconds_until` runs."""
        pid = self.pid(name)
        os.killpg(pid, signal.SIGSTOP)
        try:
            seconds_until()
        finally:
            os.killpg(pid, signal.SIGCONT)

    def wait_restarted(self, name: str, old_pid: int) -> None:
        def back() -> bool:
            info = self.mesh.state()["processes"].get(name, {})
            return info.get("pid") != old_pid and info.get("restarts", 0) >= 1

        wait_for(back, RECOVERY_TIMEOUT, f"{name} restarted by the supervisor")

    def wait_serving(self) -> None:
        def serving() -> bool:
            results = asyncio.run(check_all(self.mesh.mesh, timeout=1.0))
            return all(r.serving for r in results)

        wait_for(serving, RECOVERY_TIMEOUT, "every service SERVING through Envoy", interval=0.5)
        assert self.mesh.proc.poll() is None, "hotelctl up stopped"

    # -- QloApps stand-in ------------------------------------------------------------------

    def qlo_faults(self, **faults: Any) -> None:
        _http("POST", f"{self.qloapps}/__admin/faults", faults)

    def qlo_clear(self) -> None:
        _http("DELETE", f"{self.qloapps}/__admin/faults")

    def qlo_orders(self) -> int:
        return int(_http("GET", f"{self.qloapps}/__admin/health")["orders"])


def new_guests(n: int, prefix: str = "3469") -> list[str]:
    return [prefix + str(uuid.uuid4().int)[:8] for _ in range(n)]


def settle(seconds: float) -> Callable[[], None]:
    """How long a pause lasts: the fault itself, not a wait on the system under test."""
    return lambda: time.sleep(seconds)
