"""`make observe` tells the truth: a real Prometheus scrapes the live mesh, loads our rules, and
every metric the rules, the dashboard and the canary analysis read is actually exported.

Runs after the other e2e modules, so the mesh has carried guest traffic by now; names that exist
only after a first event are pre-created at zero by the services, so they are there regardless.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest
import yaml
from hotel.nlp.v1 import nlp_service_pb2 as nlp_pb
from hotel.nlp.v1 import nlp_service_pb2_grpc as nlp_grpc
from hotelctl import observe
from hotelctl.analysis import template_metrics
from hotelctl.mesh import REPO_ROOT
from posada_common.testing import trusted_sync_channel

from tests.e2e.conftest import RunningMesh

pytestmark = pytest.mark.e2e

RULES = yaml.safe_load(
    (REPO_ROOT / "deploy/observability/prometheus/rules/posada.rules.yml").read_text()
)
DASHBOARD = json.loads(
    (REPO_ROOT / "deploy/observability/grafana/dashboards/posada-overview.json").read_text()
)


def _prom(mesh: RunningMesh) -> str:
    return observe.prometheus_url(mesh.mesh)


def _exported(mesh: RunningMesh) -> set[str]:
    """Every series name Prometheus has scraped from the mesh, plus recorded rule names."""
    names = set(observe.api(_prom(mesh), "label/__name__/values"))
    return names


def _wait_for_scrapes(mesh: RunningMesh) -> None:
    deadline = time.monotonic() + 60
    wanted = set(mesh.mesh.services) | {"envoy"}
    while time.monotonic() < deadline:
        up = observe.query(_prom(mesh), 'count(up{rollouts_pod_template_hash="stable"} == 1)')
        envoy = observe.query(_prom(mesh), 'up{job="envoy"} == 1')
        if up and up[0] >= len(wanted) - 1 and envoy:
            return
        time.sleep(0.5)
    pytest.fail("Prometheus never saw every service and Envoy up")


def _rule_exprs() -> list[tuple[str, str]]:
    return [(r.get("alert") or r["record"], r["expr"]) for g in RULES["groups"] for r in g["rules"]]


def _panel_exprs() -> list[tuple[str, str]]:
    out = []
    for panel in DASHBOARD["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", "1m").replace("$service", ".*")
            out.append((panel["title"], expr))
    return out


def test_the_prometheus_url_is_printed_beside_the_chat_page(running_mesh: RunningMesh) -> None:
    urls = list(running_mesh.state()["urls"].items())
    labels = [label for label, _ in urls]
    chat = next(i for i, label in enumerate(labels) if label.startswith("chat page"))
    assert labels[chat + 1].startswith("Prometheus")
    assert urls[chat + 1][1] == _prom(running_mesh)
    assert _prom(running_mesh).startswith("http://127.0.0.1:")
    assert f"Prometheus on {_prom(running_mesh)}" in running_mesh.log()


def test_prometheus_keeps_its_data_under_the_run_folder_and_loads_every_rule(
    running_mesh: RunningMesh,
) -> None:
    assert (running_mesh.run_dir / "prometheus" / "data").is_dir()
    groups = observe.api(_prom(running_mesh), "rules")["groups"]
    loaded = {r["name"]: r for g in groups for r in g["rules"]}
    for name, _expr in _rule_exprs():
        assert name in loaded, f"{name} not loaded"
        assert loaded[name]["health"] != "err", f"{name}: {loaded[name].get('lastError')}"


def test_every_metric_named_by_rules_dashboard_and_analysis_is_exported_live(
    running_mesh: RunningMesh,
) -> None:
    _wait_for_scrapes(running_mesh)
    exported = _exported(running_mesh)
    recorded = {r["record"] for g in RULES["groups"] for r in g["rules"] if "record" in r}
    analysis = [
        (m.name, m.query) for judge in ("grpc", "guest_path") for m in template_metrics(judge)
    ]
    missing = []
    for where, expr in _rule_exprs() + _panel_exprs() + analysis:
        for name in observe.metric_names(expr):
            if name in recorded or name == "up":
                continue
            if name not in exported:
                missing.append(f"{where}: {name}")
    assert not missing, "named but nobody exports it:\n" + "\n".join(sorted(set(missing)))


def test_every_dashboard_panel_query_runs_without_error(running_mesh: RunningMesh) -> None:
    errors = []
    for title, expr in _panel_exprs():
        try:
            observe.query(_prom(running_mesh), expr)
        except observe.QueryError as exc:
            errors.append(f"{title}: {exc}")
    assert not errors, "\n".join(errors)


def test_first_failure_series_exist_at_zero_before_any_failure(running_mesh: RunningMesh) -> None:
    """The series an alert or canary counts failures on are scraped before the first failure."""
    base = f"http://127.0.0.1:{running_mesh.mesh.services['nlp'].metrics_port}/metrics"
    with urllib.request.urlopen(base, timeout=5) as resp:
        text = resp.read().decode()
    assert re.search(
        r'posada_grpc_server_handled_total\{grpc_code="INTERNAL",grpc_method="Parse",'
        r'grpc_service="hotel.nlp.v1.NlpService"\} \d',
        text,
    ), "nlp's INTERNAL counter for Parse is not pre-created"
    gw = f"http://127.0.0.1:{running_mesh.mesh.services['gateway'].metrics_port}/metrics"
    with urllib.request.urlopen(gw, timeout=5) as resp:
        text = resp.read().decode()
    for line in (
        'posada_gateway_dead_lettered_total{reason="max_attempts"}',
        'posada_gateway_processed_total{outcome="dead_letter"}',
    ):
        assert line in text, line


def test_every_recording_rule_records_series_from_the_live_mesh(running_mesh: RunningMesh) -> None:
    """Recording rules evaluate every 30 s; each must produce series from real scrapes.

    A ratio needs requests: a few Parse calls through Envoy make sure there are some, even when
    this module runs alone.
    """
    _wait_for_scrapes(running_mesh)
    with trusted_sync_channel(running_mesh.mesh_address) as channel:
        stub = nlp_grpc.NlpServiceStub(channel)
        for _ in range(5):
            stub.Parse(nlp_pb.ParseRequest(text="hola"), timeout=10)
    recorded = [r["record"] for g in RULES["groups"] for r in g["rules"] if "record" in r]
    deadline = time.monotonic() + 90
    empty = recorded
    while time.monotonic() < deadline:
        empty = [
            name for name in recorded if not observe.query(_prom(running_mesh), f"count({name})")
        ]
        if not empty:
            return
        time.sleep(2)
    pytest.fail(f"recording rules without series: {empty}")
