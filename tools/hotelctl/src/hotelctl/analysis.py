"""The canary analysis: one definition of its PromQL and its verdicts, for Kubernetes and locally.

`deploy/k8s/generate.py` renders these metrics into Argo Rollouts AnalysisTemplates (selector
and thresholds as `{{args.*}}`), and `hotelctl canary` evaluates the very same text against the
local Prometheus with the arguments filled in. The rules that make it fail closed:

- a success rate is `(ok or vector(0)) / all`: when every request fails the numerator has no
  series, and without `or vector(0)` the division would be empty, which used to pass;
- every query is gated by `and on() <requests in the window> >= min_requests`: no or too little
  traffic gives an empty result, which is *inconclusive* (neither condition holds), never a
  pass; too many inconclusive measurements pause the rollout for a person;
- latency is a p99 from a histogram whose buckets reach past the budget (posada_common.metrics),
  so a p99 over budget is measurable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hotelctl.mesh import Mesh

SERVER_FAULT_CODES = "UNKNOWN|INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS|UNIMPLEMENTED"
# Inside the mesh every caller is authenticated and allowed by the table, so a canary that
# refuses calls (wrong keys, a broken authorisation table) is broken however fast it refuses.
CANARY_FAILURE_CODES = f"{SERVER_FAULT_CODES}|UNAUTHENTICATED|PERMISSION_DENIED"
# Argo Rollouts' label on a ReplicaSet's pods (PodMonitor relabels it; locally a static label).
HASH_LABEL = "rollouts_pod_template_hash"


class Verdict(StrEnum):
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"


@dataclass(frozen=True)
class Step:
    weight: int
    pause_seconds: float


@dataclass(frozen=True)
class Policy:
    """`canary:` of deploy/mesh.yaml."""

    steps: tuple[Step, ...]
    interval_seconds: float
    window: str
    min_requests: int
    min_success_rate: float
    failure_limit: int
    inconclusive_limit: int
    port_shift: int


@dataclass(frozen=True)
class AnalysisMetric:
    """One measurement: a query and the threshold that passes it (`>=` or `<=`)."""

    name: str
    query: str
    threshold: str  # a number, or an `{{args.*}}` placeholder in the AnalysisTemplate
    at_least: bool  # True: value >= threshold passes (success rates); False: <= (latency)

    def success_condition(self) -> str:
        op = ">=" if self.at_least else "<="
        return f"len(result) > 0 && !isNaN(result[0]) && result[0] {op} {self.threshold}"

    def failure_condition(self) -> str:
        op = "<" if self.at_least else ">"
        return f"len(result) > 0 && !isNaN(result[0]) && result[0] {op} {self.threshold}"

    def judge(self, values: list[float]) -> Verdict:
        """The verdict Argo Rollouts reaches from these conditions for a query result."""
        if not values or math.isnan(values[0]):
            return Verdict.INCONCLUSIVE
        limit = float(self.threshold)
        ok = values[0] >= limit if self.at_least else values[0] <= limit
        return Verdict.SUCCESSFUL if ok else Verdict.FAILED


def _seconds(text: str | int | float) -> float:
    if isinstance(text, int | float):
        return float(text)
    text = str(text).strip()
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def load_policy(raw: dict[str, Any]) -> Policy:
    c = raw["canary"]
    a = c["analysis"]
    return Policy(
        steps=tuple(Step(int(s["weight"]), _seconds(s["pause"])) for s in c["steps"]),
        interval_seconds=_seconds(a["interval"]),
        window=str(a["window"]),
        min_requests=int(a["min_requests"]),
        min_success_rate=float(a["min_success_rate"]),
        failure_limit=int(a["failure_limit"]),
        inconclusive_limit=int(a["inconclusive_limit"]),
        port_shift=int(c["rehearsal"]["port_shift"]),
    )


def judge_of(mesh: Mesh, service: str) -> tuple[str, float]:
    """(judge kind, p99 budget seconds) of a service, from its `canary:` in the mesh file."""
    spec = mesh.raw["services"][service]["canary"]
    return str(spec["judge"]), float(spec["p99_budget"])


def _ratio(counter: str, sel: str, ok: str, total: str, window: str, min_requests: str) -> str:
    everything = f"{counter}{{{sel}{total}}}"
    return (
        f"(sum(rate({counter}{{{sel}{ok}}}[{window}])) or vector(0))\n"
        f"/ sum(rate({everything}[{window}]))\n"
        f"and on() sum(increase({everything}[{window}])) >= {min_requests}"
    )


def _p99(histogram: str, sel: str, window: str, min_requests: str) -> str:
    return (
        f"histogram_quantile(0.99, sum by (le) (rate({histogram}_bucket{{{sel}}}[{window}])))\n"
        f"and on() sum(increase({histogram}_count{{{sel}}}[{window}])) >= {min_requests}"
    )


def grpc_metrics(
    *, sel: str, window: str, min_requests: str, min_success_rate: str, max_p99: str
) -> list[AnalysisMetric]:
    """A service judged by its own RPCs. `sel` selects the canary's series of one gRPC service."""
    counter = "posada_grpc_server_handled_total"
    return [
        AnalysisMetric(
            "grpc-success-rate",
            _ratio(
                counter, sel, f', grpc_code!~"{CANARY_FAILURE_CODES}"', "", window, min_requests
            ),
            min_success_rate,
            at_least=True,
        ),
        AnalysisMetric(
            "grpc-p99-latency",
            _p99("posada_grpc_server_handling_seconds", sel, window, min_requests),
            max_p99,
            at_least=False,
        ),
    ]


def guest_path_metrics(
    *, sel: str, window: str, min_requests: str, min_success_rate: str, max_p99: str
) -> list[AnalysisMetric]:
    """The gateway, judged by what guests go through (ChannelService sees no guest traffic).

    Webhooks: `ok` against `error` (bad signatures and malformed bodies are the caller's fault).
    Inbox entries: `done`/`duplicate` against those plus `retry`/`dead_letter` (`busy` = another
    worker holds it, neither). Latency: webhook acceptance to the last reply sent.
    """
    return [
        AnalysisMetric(
            "webhook-success-rate",
            _ratio(
                "posada_gateway_webhook_requests_total",
                sel,
                ', method="POST", result="ok"',
                ', method="POST", result=~"ok|error"',
                window,
                min_requests,
            ),
            min_success_rate,
            at_least=True,
        ),
        AnalysisMetric(
            "processing-success-rate",
            _ratio(
                "posada_gateway_processed_total",
                sel,
                ', outcome=~"done|duplicate"',
                ', outcome=~"done|duplicate|retry|dead_letter"',
                window,
                min_requests,
            ),
            min_success_rate,
            at_least=True,
        ),
        AnalysisMetric(
            "end-to-end-p99",
            _p99("posada_gateway_end_to_end_seconds", sel, window, min_requests),
            max_p99,
            at_least=False,
        ),
    ]


JUDGES = {"grpc": grpc_metrics, "guest_path": guest_path_metrics}


def template_metrics(judge: str) -> list[AnalysisMetric]:
    """The metrics of an AnalysisTemplate: selector and thresholds are Argo `{{args.*}}`."""
    sel = f'{HASH_LABEL}="{{{{args.canary-hash}}}}"'
    if judge == "grpc":
        sel = f'grpc_service="{{{{args.grpc-service}}}}", {sel}'
    return JUDGES[judge](
        sel=sel,
        window="{{args.window}}",
        min_requests="{{args.min-requests}}",
        min_success_rate="{{args.min-success-rate}}",
        max_p99="{{args.max-p99-seconds}}",
    )


def concrete_metrics(
    mesh: Mesh,
    service: str,
    policy: Policy,
    *,
    canary_hash: str,
    window: str | None = None,
    min_requests: int | None = None,
) -> list[AnalysisMetric]:
    """The template's metrics with the arguments filled in, as Argo Rollouts would send them."""
    judge, budget = judge_of(mesh, service)
    args = {
        "canary-hash": canary_hash,
        "grpc-service": mesh.services[service].grpc_services[0],
        "window": window or policy.window,
        "min-requests": str(min_requests if min_requests is not None else policy.min_requests),
        "min-success-rate": f"{policy.min_success_rate:g}",
        "max-p99-seconds": f"{budget:g}",
    }
    return [
        AnalysisMetric(m.name, fill_args(m.query, args), fill_args(m.threshold, args), m.at_least)
        for m in template_metrics(judge)
    ]


def fill_args(text: str, args: dict[str, str]) -> str:
    for key, value in args.items():
        text = text.replace(f"{{{{args.{key}}}}}", value)
    if "{{args." in text:
        raise ValueError(f"unfilled argument in {text!r}")
    return text
