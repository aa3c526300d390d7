"""`hotelctl canary <service>`: the canary release rehearsed on one machine, against the local mesh.

It does what Argo Rollouts does in Kubernetes, with the same inputs (deploy/mesh.yaml
`canary:` steps and analysis, the PromQL of hotelctl.analysis) and the same verdict rules:

1. start a second instance of the service (the working tree's code, on the stable ports +
   `canary.rehearsal.port_shift`), optionally with a drill fault or latency injected
   (posada_common.drill), and add it to the local Prometheus as `rollouts_pod_template_hash=canary`;
2. wait until Envoy's health check sees it SERVING;
3. for each step, set its share of the service's traffic through Envoy's runtime
   (`/runtime_modify?posada.canary.<service>=<weight>` on the loopback admin: no restart, no
   reload), then measure every interval for the step's pause: too many failed measurements
   abort, too many inconclusive ones stop too (Argo pauses for a person; a rehearsal cannot wait);
4. a last gate measurement has to pass before 100 %;
5. promote (100 %, then back to the stable instance, which already runs this code) or roll back
   (0 % at once); either way the canary drains its in-flight requests and stops.

Needs a mesh started with `hotelctl up --observe` (`make observe`) on the same port offset.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from posada_common.drill import FAULT_ENV, LATENCY_ENV

from hotelctl import observe
from hotelctl.analysis import Policy, Verdict, concrete_metrics, load_policy
from hotelctl.credentials import dev_credentials
from hotelctl.envoy_config import canary_runtime_key
from hotelctl.mesh import REPO_ROOT, Mesh, load_mesh
from hotelctl.processes import ManagedProcess, wait_until
from hotelctl.runner import build_env

PROMOTED, ROLLED_BACK, INCONCLUSIVE, SETUP_FAILED = 0, 1, 2, 3


@dataclass
class Measurement:
    step: int
    weight: int
    metric: str
    value: float | None
    threshold: str
    verdict: str
    canary_requests: int


@dataclass
class Report:
    service: str
    outcome: str = "running"
    reason: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {**asdict(self), "measurements": [asdict(m) for m in self.measurements]}, indent=2
        )


class Envoy:
    """The loopback admin endpoint: runtime weights and cluster stats."""

    def __init__(self, mesh: Mesh):
        self.base = f"http://127.0.0.1:{mesh.admin_port}"

    def _call(self, path: str, method: str = "GET") -> str:
        req = urllib.request.Request(self.base + path, method=method)
        with urllib.request.urlopen(req, timeout=5) as resp:
            return str(resp.read().decode())

    def set_weight(self, service: str, weight: int) -> None:
        self._call(f"/runtime_modify?{canary_runtime_key(service)}={weight}", method="POST")

    def weight(self, service: str) -> int:
        entries = json.loads(self._call("/runtime"))["entries"]
        entry = entries.get(canary_runtime_key(service))
        return int(entry["final_value"]) if entry else 0

    def stat(self, name: str) -> int:
        text = self._call(f"/stats?filter=^{name}$")
        for line in text.splitlines():
            key, _, value = line.partition(": ")
            if key == name:
                return int(value)
        return 0


def _duration(text: str) -> float:
    text = text.strip()
    for unit, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


@dataclass
class Rehearsal:
    mesh: Mesh
    service: str
    run_dir: Path
    policy: Policy
    env: dict[str, str]
    fault: float = 0.0
    latency: float = 0.0
    step_seconds: float | None = None
    interval: float | None = None
    window: str | None = None
    min_requests: int | None = None
    out: Any = sys.stdout
    baseline: int = 0  # Envoy's request counter for the canary cluster when this run started

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @property
    def clusters(self) -> list[str]:
        """Envoy's clusters for the canary: its gRPC port, and for the gateway its webhooks."""
        out = [f"{self.service}_canary_grpc"]
        if self.mesh.services[self.service].http_port:
            out.append(f"{self.service}_canary_http")
        return out

    def _sum(self, envoy: Envoy, stat: str) -> int:
        return sum(envoy.stat(f"cluster.{c}.{stat}") for c in self.clusters)

    def start_canary(self) -> ManagedProcess:
        spec = self.mesh.services[self.service]
        shift = self.policy.port_shift
        base = build_env(self.mesh, self.run_dir, self.env)
        env = {
            **base,
            # The same identity and keys as the stable instance: without them the mesh's
            # authentication refuses every call before the drill (or the code) is reached.
            **dev_credentials(self.run_dir, base).env_for(self.service),
            "GRPC_PORT": str(spec.grpc_port + shift),
            "METRICS_PORT": str(spec.metrics_port + shift),
            "SERVICE_NAME": self.service,
        }
        if spec.http_port:
            env["GATEWAY_HTTP_PORT"] = str(spec.http_port + shift)
            env["GATEWAY_CONSUMER_NAME"] = f"{self.service}-canary"
        if self.fault:
            env[FAULT_ENV] = f"{self.fault:g}"
        if self.latency:
            env[LATENCY_ENV] = f"{self.latency:g}"
        logs = self.run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        return ManagedProcess(
            f"{self.service}-canary",
            [sys.executable, "-m", spec.module],
            log_path=logs / f"{self.service}-canary.log",
            env=env,
        ).start()

    def run(self) -> tuple[int, Report]:
        report = Report(self.service)
        envoy = Envoy(self.mesh)
        prom = observe.prometheus_url(self.mesh)
        try:
            observe.api(prom, "status/buildinfo")
        except (observe.QueryError, urllib.error.URLError, OSError) as exc:
            report.outcome, report.reason = "setup_failed", f"no Prometheus at {prom}: {exc}"
            self.say(f"✘ {report.reason} (start the mesh with `hotelctl up --observe`)")
            return SETUP_FAILED, report
        if envoy.weight(self.service):
            report.outcome, report.reason = "setup_failed", "a canary is already taking traffic"
            self.say(f"✘ {report.reason}")
            return SETUP_FAILED, report
        metrics = concrete_metrics(
            self.mesh,
            self.service,
            self.policy,
            canary_hash=observe.CANARY,
            window=self.window,
            min_requests=self.min_requests,
        )
        interval = self.interval or self.policy.interval_seconds
        drill = ", ".join(
            part
            for part in (
                f"fault {self.fault:.0%}" if self.fault else "",
                f"latency +{self.latency:g}s" if self.latency else "",
            )
            if part
        )
        self.say(
            f"» canary {self.service}: steps "
            + " → ".join(f"{s.weight}%" for s in self.policy.steps)
            + f" → gate → 100%; measure every {interval:g}s"
            + (f"; drill: {drill}" if drill else "")
        )
        proc = self.start_canary()
        code = SETUP_FAILED
        try:
            try:
                wait_until(
                    lambda: (
                        _alive(proc)
                        and self._sum(envoy, "membership_healthy") == len(self.clusters)
                    ),
                    180,
                    what=f"{self.service} canary SERVING in Envoy",
                )
            except (TimeoutError, RuntimeError) as exc:
                report.outcome, report.reason = "setup_failed", str(exc)
                self.say(f"✘ canary did not become healthy: {exc}\n{proc.tail()}")
                return SETUP_FAILED, report
            observe.write_canary_target(
                self.run_dir,
                self.service,
                self.mesh.services[self.service].metrics_port + self.policy.port_shift,
            )
            up = f'up{{job="{self.service}", rollouts_pod_template_hash="{observe.CANARY}"}} == 1'
            wait_until(
                lambda: bool(observe.query(prom, up)), 60, what="Prometheus scraping the canary"
            )
            self.baseline = self._sum(envoy, "upstream_rq_total")
            self.say(f"  canary pid {proc.pid} SERVING in Envoy; Prometheus scrapes it as canary")
            code = self._steps(envoy, prom, metrics, interval, report)
            return code, report
        finally:
            envoy.set_weight(self.service, 0)
            self._drain(envoy)
            proc.stop(timeout=30)
            observe.write_canary_target(self.run_dir, self.service, None)
            verb = {PROMOTED: "promoted", ROLLED_BACK: "rolled back", INCONCLUSIVE: "rolled back"}
            self.say(
                f"» {self.service} canary {verb.get(code, 'stopped')}: traffic back on the stable"
                " instance, canary stopped"
            )

    def _drain(self, envoy: Envoy) -> None:
        try:
            wait_until(
                lambda: self._sum(envoy, "upstream_rq_active") == 0,
                30,
                what="canary's in-flight requests",
            )
        except TimeoutError:
            self.say("  ! canary still had requests in flight after 30 s; stopping it gracefully")

    def _measure(
        self,
        envoy: Envoy,
        prom: str,
        metrics: list[Any],
        step: int,
        weight: int,
        report: Report,
    ) -> list[Verdict]:
        sent = self._sum(envoy, "upstream_rq_total") - self.baseline
        verdicts = []
        for m in metrics:
            try:
                values = observe.query(prom, m.query)
            except observe.QueryError as exc:
                self.say(f"    {m.name}: query error {exc}")
                values = []
            verdict = m.judge(values)
            value = values[0] if values else None
            report.measurements.append(
                Measurement(step, weight, m.name, value, m.threshold, verdict.value, sent)
            )
            shown = "no data" if value is None else f"{value:.4g}"
            op = "≥" if m.at_least else "≤"
            self.say(f"    {m.name:24} {shown:>10} (pass {op} {m.threshold})  {verdict.value}")
            verdicts.append(verdict)
        self.say(f"    requests Envoy sent the canary so far: {sent}")
        return verdicts

    def _steps(
        self, envoy: Envoy, prom: str, metrics: list[Any], interval: float, report: Report
    ) -> int:
        # Argo's `initialDelay` (= the window): the first measurement sees a full window of
        # canary traffic instead of the few seconds since it joined.
        first_at = time.monotonic() + _duration(self.window or self.policy.window)
        failed: dict[str, int] = {m.name: 0 for m in metrics}
        inconclusive: dict[str, int] = {m.name: 0 for m in metrics}
        for number, step in enumerate(self.policy.steps, start=1):
            pause = self.step_seconds if self.step_seconds is not None else step.pause_seconds
            envoy.set_weight(self.service, step.weight)
            report.steps.append({"step": number, "weight": step.weight, "pause_seconds": pause})
            self.say(f"  step {number}: weight {step.weight}% for {pause:g}s")
            end = time.monotonic() + pause
            while time.monotonic() < end:
                time.sleep(min(interval, max(0.0, end - time.monotonic())))
                if time.monotonic() < first_at:
                    continue
                for m, verdict in zip(
                    metrics,
                    self._measure(envoy, prom, metrics, number, step.weight, report),
                    strict=True,
                ):
                    if verdict is Verdict.FAILED:
                        failed[m.name] += 1
                    elif verdict is Verdict.INCONCLUSIVE:
                        inconclusive[m.name] += 1
                    if failed[m.name] > self.policy.failure_limit:
                        return self._stop(report, ROLLED_BACK, f"{m.name} failed {failed[m.name]}×")
                    if inconclusive[m.name] > self.policy.inconclusive_limit:
                        return self._stop(
                            report,
                            INCONCLUSIVE,
                            f"{m.name} inconclusive {inconclusive[m.name]}× (too little traffic)",
                        )
        self.say("  gate: one measurement must pass before 100%")
        last = self.policy.steps[-1].weight if self.policy.steps else 0
        verdicts = self._measure(envoy, prom, metrics, len(self.policy.steps) + 1, last, report)
        if any(v is Verdict.FAILED for v in verdicts):
            return self._stop(report, ROLLED_BACK, "gate measurement failed")
        if any(v is Verdict.INCONCLUSIVE for v in verdicts):
            return self._stop(report, INCONCLUSIVE, "gate measurement inconclusive")
        envoy.set_weight(self.service, 100)
        report.steps.append({"step": len(self.policy.steps) + 1, "weight": 100, "pause_seconds": 0})
        self.say("  weight 100%: promoted")
        report.outcome = "promoted"
        return PROMOTED

    def _stop(self, report: Report, code: int, reason: str) -> int:
        report.outcome = "rolled_back" if code == ROLLED_BACK else "inconclusive"
        report.reason = reason
        self.say(f"  ✘ abort: {reason}; rolling back")
        return code


def _alive(proc: ManagedProcess) -> bool:
    if not proc.running():
        raise RuntimeError(f"canary exited:\n{proc.tail()}")
    return True


def run_canary(args: Any, offset: int) -> int:
    mesh = load_mesh(offset=offset)
    if args.service not in mesh.services:
        print(
            f"unknown service {args.service!r}; one of {', '.join(mesh.services)}", file=sys.stderr
        )
        return SETUP_FAILED
    if not 0 <= args.inject_fault <= 1:
        print("--inject-fault is a share between 0 and 1", file=sys.stderr)
        return SETUP_FAILED
    run_dir = Path(os.environ.get("POSADA_RUN_DIR") or REPO_ROOT / ".run").resolve()
    rehearsal = Rehearsal(
        mesh=mesh,
        service=args.service,
        run_dir=run_dir,
        policy=load_policy(mesh.raw),
        env=dict(os.environ),
        fault=args.inject_fault,
        latency=_duration(args.inject_latency) if args.inject_latency else 0.0,
        step_seconds=_duration(args.step) if args.step else None,
        interval=_duration(args.interval) if args.interval else None,
        window=args.window,
        min_requests=args.min_requests,
    )
    code, report = rehearsal.run()
    if args.report:
        Path(args.report).write_text(report.to_json())
    return code
