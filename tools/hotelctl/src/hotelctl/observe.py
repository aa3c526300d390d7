"""A real Prometheus beside the local mesh (`make observe`, `hotelctl up --observe`).

Debian's `prometheus` binary, on loopback only, with its own data folder under the run folder
and the project's own rules (deploy/observability/prometheus/rules/) loaded, scraping every
service's /metrics and Envoy's stats listener. The labels match what Kubernetes gives the
same series (`job` = service name, `rollouts_pod_template_hash` = `stable` here, `canary` for
the second instance `hotelctl canary` starts), so the rules, the dashboard and the canary
analysis are the same PromQL in both places. Canary targets come and go through file-based
service discovery: Prometheus notices a changed file without a restart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from hotelctl.mesh import REPO_ROOT, Mesh
from hotelctl.processes import ManagedProcess, wait_until

RULES_DIR = REPO_ROOT / "deploy" / "observability" / "prometheus" / "rules"
STABLE = "stable"
CANARY = "canary"


class PrometheusMissing(RuntimeError):
    pass


def prometheus_port(mesh: Mesh) -> int:
    return int(mesh.raw["observability"]["prometheus_port"]) + mesh.offset


def prometheus_url(mesh: Mesh) -> str:
    return f"http://127.0.0.1:{prometheus_port(mesh)}"


def canary_targets_file(run_dir: Path, service: str) -> Path:
    return run_dir / "prometheus" / "targets" / f"{service}-canary.json"


def config(mesh: Mesh, run_dir: Path, scrape_interval: str | None = None) -> dict[str, Any]:
    """prometheus.yml for the local mesh (ports from deploy/mesh.yaml, shifted by the offset)."""
    interval = (
        scrape_interval
        or os.environ.get("POSADA_SCRAPE_INTERVAL")  # tests and drills scrape faster
        or str(mesh.raw["observability"]["scrape_interval"])
    )
    jobs: list[dict[str, Any]] = []
    for name, spec in mesh.services.items():
        jobs.append(
            {
                "job_name": name,
                "static_configs": [
                    {
                        "targets": [f"127.0.0.1:{spec.metrics_port}"],
                        "labels": {"rollouts_pod_template_hash": STABLE},
                    }
                ],
                "file_sd_configs": [
                    {"files": [str(canary_targets_file(run_dir, name))], "refresh_interval": "5s"}
                ],
            }
        )
    jobs.append(
        {
            "job_name": "envoy",
            "metrics_path": "/stats/prometheus",
            "static_configs": [{"targets": [f"127.0.0.1:{mesh.stats_port}"]}],
        }
    )
    jobs.append(
        {
            "job_name": "prometheus",
            "static_configs": [{"targets": [f"127.0.0.1:{prometheus_port(mesh)}"]}],
        }
    )
    return {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval if _secs(interval) < 10 else "10s",
            "evaluation_interval": interval,
            "external_labels": {"mesh": "posada-local"},
        },
        "rule_files": [str(RULES_DIR / "*.yml")],
        "scrape_configs": jobs,
    }


def _secs(duration: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for unit in ("ms", "s", "m", "h"):
        if duration.endswith(unit):
            return float(duration[: -len(unit)]) * units[unit]
    return float(duration)


def write_canary_target(run_dir: Path, service: str, metrics_port: int | None) -> None:
    """Add (a port) or remove (None) the canary instance of `service` from the scrape."""
    path = canary_targets_file(run_dir, service)
    path.parent.mkdir(parents=True, exist_ok=True)
    groups = (
        [
            {
                "targets": [f"127.0.0.1:{metrics_port}"],
                "labels": {"rollouts_pod_template_hash": CANARY},
            }
        ]
        if metrics_port
        else []
    )
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(groups))
    tmp.replace(path)  # atomic: Prometheus never reads half a file


def start_prometheus(
    mesh: Mesh, run_dir: Path, log_path: Path, *, scrape_interval: str | None = None
) -> ManagedProcess:
    binary = shutil.which("prometheus")
    if binary is None:
        raise PrometheusMissing(
            "`prometheus` is not installed: `make system-test-deps` (Debian package prometheus)"
        )
    home = run_dir / "prometheus"
    (home / "data").mkdir(parents=True, exist_ok=True)
    for name in mesh.services:
        if not canary_targets_file(run_dir, name).exists():
            write_canary_target(run_dir, name, None)
    cfg = home / "prometheus.yml"
    cfg.write_text(yaml.safe_dump(config(mesh, run_dir, scrape_interval), sort_keys=False))
    argv = [
        binary,
        f"--config.file={cfg}",
        f"--storage.tsdb.path={home / 'data'}",
        "--storage.tsdb.retention.time=2d",
        f"--web.listen-address=127.0.0.1:{prometheus_port(mesh)}",
        "--web.enable-lifecycle",
        "--log.level=warn",
    ]
    proc = ManagedProcess("prometheus", argv, log_path=log_path).start()
    wait_until(lambda: _ready(mesh), 60, what="prometheus /-/ready")
    return proc


def _ready(mesh: Mesh) -> bool:
    try:
        with urllib.request.urlopen(f"{prometheus_url(mesh)}/-/ready", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class QueryError(RuntimeError):
    pass


def api(base_url: str, path: str, params: dict[str, str] | None = None) -> Any:
    """GET /api/v1/<path> and return `data`; raises QueryError with Prometheus' own message."""
    url = f"{base_url}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read() or b"{}")
        raise QueryError(body.get("error", str(exc))) from None
    if body.get("status") != "success":
        raise QueryError(body.get("error", "unknown error"))
    return body["data"]


def query(base_url: str, promql: str) -> list[float]:
    """Instant query; the values of the resulting vector (what Argo's `result` holds)."""
    data = api(base_url, "query", {"query": promql, "time": f"{time.time():.3f}"})
    if data["resultType"] == "scalar":
        return [float(data["result"][1])]
    return [float(sample["value"][1]) for sample in data["result"]]


def metric_names(expr: str) -> set[str]:
    """Metric (and recording rule) names a PromQL expression reads; functions and keywords dropped."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\boffset\s+\w+", "", text)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(?:[^\w\s(:]|$))", text))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"\d+\w*", w)}


PROMQL_WORDS = {"and", "or", "unless", "bool", "inf", "nan", "offset", "vector", "time"}
