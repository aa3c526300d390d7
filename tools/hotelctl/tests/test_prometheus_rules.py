"""Rules, configs and the canary analysis, checked by a real Prometheus (`promtool`, Debian).

- `promtool check rules` / `check config` on the rules, the compose config and the config
  `make observe` generates;
- `promtool test rules` on deploy/observability/prometheus/tests/posada.rules.test.yml, which
  must make every alert fire at least once;
- the canary analysis queries (the AnalysisTemplates' PromQL, args filled in) evaluated by
  promtool on scenarios - healthy, total failure, partial failure, slow, no traffic, too little
  traffic, first event - with the verdict Argo Rollouts would reach from each value;
- every alert links a runbook page that exists.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hotelctl import observe
from hotelctl.analysis import Verdict, concrete_metrics, load_policy
from hotelctl.mesh import REPO_ROOT, load_mesh

PROM_DIR = REPO_ROOT / "deploy" / "observability" / "prometheus"
RULES = PROM_DIR / "rules" / "posada.rules.yml"
RULE_TESTS = PROM_DIR / "tests" / "posada.rules.test.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing: `make system-test-deps` installs prometheus"
)
MESH = load_mesh()
POLICY = load_policy(MESH.raw)
HASH = "abc123"  # the canary ReplicaSet's pod-template hash in these scenarios


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )


def alerts() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"SUCCESS: {sum(len(g['rules']) for g in yaml.safe_load(RULES.read_text())['groups'])}"
        in result.stdout
    )


@needs_promtool
def test_promtool_accepts_the_compose_and_local_configs(tmp_path: Path) -> None:
    compose = promtool("check", "config", "--syntax-only", str(PROM_DIR / "prometheus.yml"))
    assert compose.returncode == 0, compose.stdout + compose.stderr
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(observe.config(MESH, tmp_path)))
    result = promtool("check", "config", str(local))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@needs_promtool
def test_every_alert_fires_in_the_promtool_cases(tmp_path: Path) -> None:
    doc = yaml.safe_load(RULES.read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)  # text for people; promtool would compare it verbatim
    (tmp_path / "posada.rules.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    result = promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    fired = {
        t["alertname"] for case in cases for t in case.get("alert_rule_test", []) if t["exp_alerts"]
    }
    missing = {a["alert"] for a in alerts()} - fired
    assert not missing, f"alerts no promtool case makes fire: {sorted(missing)}"


def test_every_alert_links_its_runbook_page() -> None:
    for rule in alerts():
        url = rule["annotations"].get("runbook_url", "")
        assert url == f"docs/runbooks/{rule['alert']}.md", rule["alert"]
        page = REPO_ROOT / url
        assert page.exists(), f"{url} missing"
        text = page.read_text()
        assert text.startswith(f"# {rule['alert']}"), url
        for heading in ("## What it means", "## Check", "## Fix"):
            assert heading in text, f"{url}: no '{heading}'"


# --- the canary analysis on scenarios ---------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    series: list[tuple[str, str]]  # (series without the canary hash label, values)
    expect: dict[str, Verdict]  # metric name -> verdict


def _grpc(code: str, values: str, method: str = "Parse") -> tuple[str, str]:
    return (
        f'posada_grpc_server_handled_total{{grpc_service="hotel.nlp.v1.NlpService", '
        f'grpc_method="{method}", grpc_code="{code}"',
        values,
    )


def _grpc_buckets(counts: dict[str, str]) -> list[tuple[str, str]]:
    out = []
    for le, values in counts.items():
        out.append(
            (
                'posada_grpc_server_handling_seconds_bucket{grpc_service="hotel.nlp.v1.NlpService", '
                f'grpc_method="Parse", le="{le}"',
                values,
            )
        )
    out.append(
        (
            'posada_grpc_server_handling_seconds_count{grpc_service="hotel.nlp.v1.NlpService", '
            'grpc_method="Parse"',
            counts["+Inf"],
        )
    )
    return out


FAST = {"0.05": "0+60x10", "0.5": "0+60x10", "2.5": "0+60x10", "+Inf": "0+60x10"}
SLOW = {"0.05": "0x10", "0.5": "0x10", "2.5": "0+60x10", "+Inf": "0+60x10"}
OK, FAIL, NODATA = Verdict.SUCCESSFUL, Verdict.FAILED, Verdict.INCONCLUSIVE
GRPC_SCENARIOS = [
    Scenario(
        "healthy",
        [_grpc("OK", "0+60x10"), _grpc("INTERNAL", "0x10"), *_grpc_buckets(FAST)],
        {"grpc-success-rate": OK, "grpc-p99-latency": OK},
    ),
    Scenario(
        "total failure (OK series at zero)",
        [_grpc("OK", "0x10"), _grpc("INTERNAL", "0+60x10"), *_grpc_buckets(FAST)],
        {"grpc-success-rate": FAIL, "grpc-p99-latency": OK},
    ),
    Scenario(
        "total failure (no OK series at all: `or vector(0)`)",
        [_grpc("UNAVAILABLE", "0+60x10"), *_grpc_buckets(FAST)],
        {"grpc-success-rate": FAIL, "grpc-p99-latency": OK},
    ),
    Scenario(
        "partial failure (10 %; INVALID_ARGUMENT is an answer)",
        [
            _grpc("OK", "0+50x10"),
            _grpc("INVALID_ARGUMENT", "0+4x10"),
            _grpc("DEADLINE_EXCEEDED", "0+6x10"),
            *_grpc_buckets(FAST),
        ],
        {"grpc-success-rate": FAIL, "grpc-p99-latency": OK},
    ),
    Scenario(
        "a canary that refuses every call (mesh credentials missing)",
        [_grpc("OK", "0x10"), _grpc("UNAUTHENTICATED", "0+60x10"), *_grpc_buckets(FAST)],
        {"grpc-success-rate": FAIL, "grpc-p99-latency": OK},
    ),
    Scenario(
        "slow (every call between 0.5 s and 2.5 s)",
        [_grpc("OK", "0+60x10"), *_grpc_buckets(SLOW)],
        {"grpc-success-rate": OK, "grpc-p99-latency": FAIL},
    ),
    Scenario(
        "no traffic (series pre-created at zero)",
        [_grpc("OK", "0x10"), _grpc("INTERNAL", "0x10"), *_grpc_buckets({"+Inf": "0x10"})],
        {"grpc-success-rate": NODATA, "grpc-p99-latency": NODATA},
    ),
    Scenario(
        "a silent cluster (nothing scraped at all)",
        [],
        {"grpc-success-rate": NODATA, "grpc-p99-latency": NODATA},
    ),
    Scenario(
        "too little traffic (one call a minute)",
        [_grpc("INTERNAL", "0+1x10"), *_grpc_buckets({"+Inf": "0+1x10"})],
        {"grpc-success-rate": NODATA, "grpc-p99-latency": NODATA},
    ),
    Scenario(
        "first event: failures start on series that existed at zero",
        [
            _grpc("OK", "0x10"),
            _grpc("INTERNAL", "0 0 0 0 0 0 0 0 60 120 180"),
            *_grpc_buckets(
                {"0.05": "0 0 0 0 0 0 0 0 60 120 180", "+Inf": "0 0 0 0 0 0 0 0 60 120 180"}
            ),
        ],
        {"grpc-success-rate": FAIL, "grpc-p99-latency": OK},
    ),
]


def _gw(metric: str, labels: str, values: str) -> tuple[str, str]:
    return (f"{metric}{{{labels}", values)


def _e2e(counts: dict[str, str]) -> list[tuple[str, str]]:
    out = [
        _gw("posada_gateway_end_to_end_seconds_bucket", f'le="{le}"', v) for le, v in counts.items()
    ]
    out.append(("posada_gateway_end_to_end_seconds_count{", counts["+Inf"]))
    return out


def _guest_path(
    done: str, dead: str, webhook_ok: str, webhook_error: str, e2e: dict[str, str]
) -> list[tuple[str, str]]:
    return [
        _gw("posada_gateway_processed_total", 'outcome="done"', done),
        _gw("posada_gateway_processed_total", 'outcome="dead_letter"', dead),
        _gw("posada_gateway_processed_total", 'outcome="busy"', "0+30x10"),
        _gw("posada_gateway_webhook_requests_total", 'method="POST", result="ok"', webhook_ok),
        _gw(
            "posada_gateway_webhook_requests_total", 'method="POST", result="error"', webhook_error
        ),
        _gw(
            "posada_gateway_webhook_requests_total",
            'method="POST", result="bad_signature"',
            "0+30x10",
        ),
        *_e2e(e2e),
    ]


E2E_FAST = {"5": "0+60x10", "30": "0+60x10", "60": "0+60x10", "+Inf": "0+60x10"}
E2E_SLOW = {"5": "0x10", "30": "0x10", "60": "0+60x10", "+Inf": "0+60x10"}
GATEWAY = ("webhook-success-rate", "processing-success-rate", "end-to-end-p99")
GUEST_SCENARIOS = [
    Scenario(
        "healthy guest path",
        _guest_path("0+60x10", "0x10", "0+60x10", "0x10", E2E_FAST),
        dict.fromkeys(GATEWAY, OK),
    ),
    Scenario(
        "every message dead-lettered",
        _guest_path("0x10", "0+60x10", "0+60x10", "0x10", E2E_FAST),
        {"webhook-success-rate": OK, "processing-success-rate": FAIL, "end-to-end-p99": OK},
    ),
    Scenario(
        "webhooks failing, replies slow",
        _guest_path("0+60x10", "0x10", "0+30x10", "0+30x10", E2E_SLOW),
        {"webhook-success-rate": FAIL, "processing-success-rate": OK, "end-to-end-p99": FAIL},
    ),
    Scenario("a silent gateway", [], dict.fromkeys(GATEWAY, NODATA)),
]


def _scenario_case(s: Scenario, metrics: list[Any]) -> dict[str, Any]:
    series = []
    for prefix, values in s.series:
        sep = "" if prefix.endswith("{") else ", "
        series.append(
            {"series": f'{prefix}{sep}rollouts_pod_template_hash="{HASH}"}}', "values": values}
        )
        # the stable ReplicaSet failing everything must not move the canary's verdict
        series.append(
            {"series": f'{prefix}{sep}rollouts_pod_template_hash="stable0"}}', "values": values}
        )
    if "INTERNAL" not in str(s.series) and s.series:
        stable_fault = _grpc("INTERNAL", "0+600x10")
        series.append(
            {
                "series": f'{stable_fault[0]}, rollouts_pod_template_hash="stable1"}}',
                "values": stable_fault[1],
            }
        )
    return {
        "name": s.name,
        "interval": "1m",
        "input_series": series,
        "promql_expr_test": [
            {
                "expr": f"round({m.query}, 0.001)",
                "eval_time": "10m",
                "exp_samples": [{"labels": "{}", "value": EXPECTED[(s.name, m.name)]}]
                if EXPECTED[(s.name, m.name)] is not None
                else [],
            }
            for m in metrics
        ],
    }


# The values promtool must compute (rounded to 0.001); None = empty result.
EXPECTED: dict[tuple[str, str], float | None] = {
    ("healthy", "grpc-success-rate"): 1,
    ("healthy", "grpc-p99-latency"): 0.05,  # all in (0, 0.05]: p99 = 0.99 × 0.05
    ("total failure (OK series at zero)", "grpc-success-rate"): 0,
    ("total failure (OK series at zero)", "grpc-p99-latency"): 0.05,
    ("total failure (no OK series at all: `or vector(0)`)", "grpc-success-rate"): 0,
    ("total failure (no OK series at all: `or vector(0)`)", "grpc-p99-latency"): 0.05,
    ("partial failure (10 %; INVALID_ARGUMENT is an answer)", "grpc-success-rate"): 0.9,
    ("partial failure (10 %; INVALID_ARGUMENT is an answer)", "grpc-p99-latency"): 0.05,
    ("a canary that refuses every call (mesh credentials missing)", "grpc-success-rate"): 0,
    ("a canary that refuses every call (mesh credentials missing)", "grpc-p99-latency"): 0.05,
    ("slow (every call between 0.5 s and 2.5 s)", "grpc-success-rate"): 1,
    ("slow (every call between 0.5 s and 2.5 s)", "grpc-p99-latency"): 2.48,
    ("no traffic (series pre-created at zero)", "grpc-success-rate"): None,
    ("no traffic (series pre-created at zero)", "grpc-p99-latency"): None,
    ("a silent cluster (nothing scraped at all)", "grpc-success-rate"): None,
    ("a silent cluster (nothing scraped at all)", "grpc-p99-latency"): None,
    ("too little traffic (one call a minute)", "grpc-success-rate"): None,
    ("too little traffic (one call a minute)", "grpc-p99-latency"): None,
    ("first event: failures start on series that existed at zero", "grpc-success-rate"): 0,
    ("first event: failures start on series that existed at zero", "grpc-p99-latency"): 0.05,
    ("healthy guest path", "webhook-success-rate"): 1,
    ("healthy guest path", "processing-success-rate"): 1,
    ("healthy guest path", "end-to-end-p99"): 4.95,
    ("every message dead-lettered", "webhook-success-rate"): 1,
    ("every message dead-lettered", "processing-success-rate"): 0,
    ("every message dead-lettered", "end-to-end-p99"): 4.95,
    ("webhooks failing, replies slow", "webhook-success-rate"): 0.5,
    ("webhooks failing, replies slow", "processing-success-rate"): 1,
    ("webhooks failing, replies slow", "end-to-end-p99"): 59.7,
    ("a silent gateway", "webhook-success-rate"): None,
    ("a silent gateway", "processing-success-rate"): None,
    ("a silent gateway", "end-to-end-p99"): None,
}


@needs_promtool
def test_canary_analysis_queries_on_every_scenario(tmp_path: Path) -> None:
    nlp = concrete_metrics(MESH, "nlp", POLICY, canary_hash=HASH)
    gateway = concrete_metrics(MESH, "gateway", POLICY, canary_hash=HASH)
    cases = [_scenario_case(s, nlp) for s in GRPC_SCENARIOS]
    cases += [_scenario_case(s, gateway) for s in GUEST_SCENARIOS]
    (tmp_path / "empty.rules.yml").write_text("groups: []\n")
    test_file = tmp_path / "analysis.test.yml"
    test_file.write_text(
        yaml.safe_dump(
            {"rule_files": ["empty.rules.yml"], "evaluation_interval": "1m", "tests": cases},
            sort_keys=False,
            width=1000,
        )
    )
    result = promtool("test", "rules", test_file.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # ... and those values get the verdicts the scenarios call for (Argo's conditions)
    for scenarios, metrics in ((GRPC_SCENARIOS, nlp), (GUEST_SCENARIOS, gateway)):
        for s in scenarios:
            for m in metrics:
                value = EXPECTED[(s.name, m.name)]
                got = m.judge([] if value is None else [value])
                assert got is s.expect[m.name], f"{s.name} / {m.name}: {got}"


def test_no_result_and_nan_are_never_a_pass() -> None:
    for m in concrete_metrics(MESH, "audio", POLICY, canary_hash=HASH):
        assert m.judge([]) is Verdict.INCONCLUSIVE
        assert m.judge([float("nan")]) is Verdict.INCONCLUSIVE
    rate, p99 = concrete_metrics(MESH, "audio", POLICY, canary_hash=HASH)
    assert rate.judge([0.0]) is Verdict.FAILED and rate.judge([1.0]) is Verdict.SUCCESSFUL
    assert p99.threshold == "45"
    assert p99.judge([59.9]) is Verdict.FAILED and p99.judge([44.0]) is Verdict.SUCCESSFUL
