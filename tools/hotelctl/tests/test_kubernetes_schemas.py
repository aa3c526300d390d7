"""Rendered manifests against Kubernetes' own schemas (strict) and the custom resources' schemas.

Every overlay is built with `kubectl kustomize`; each built-in object is validated with
`kubernetes-validate --strict` for the oldest and the newest Kubernetes we support (gRPC probes
are GA from 1.27), and each Argo Rollouts / Prometheus Operator object against the trimmed CRD
schemas kept in data/crd-schemas/ (unknown or misplaced fields fail).
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from hotelctl.mesh import REPO_ROOT

K8S = REPO_ROOT / "deploy" / "k8s"
SCHEMAS = Path(__file__).parent / "data" / "crd-schemas"
OLDEST, NEWEST = "1.27.0", "1.37.0"
OVERLAYS = ("base", "overlays/dev", "overlays/production")
CUSTOM = {
    ("argoproj.io/v1alpha1", "Rollout"): "rollout.yaml",
    ("argoproj.io/v1alpha1", "AnalysisTemplate"): "analysistemplate.yaml",
    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitor.yaml",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.yaml",
}


@cache
def build(overlay: str) -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed: kustomize builds not checked here")
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / overlay)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def _custom(doc: dict[str, Any]) -> str | None:
    return CUSTOM.get((doc["apiVersion"], doc["kind"]))


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_built_in_objects_pass_strict_kubernetes_validation(overlay: str, version: str) -> None:
    problems = []
    checked = 0
    for doc in build(overlay):
        if _custom(doc):
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
            checked += 1
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: no schema ({exc})")
    assert not problems, "\n".join(problems)
    assert checked > 20


@cache
def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = yaml.safe_load((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_custom_resources_match_their_crd_schemas() -> None:
    seen = set()
    for doc in build("overlays/production"):
        name = _custom(doc)
        if name is None:
            continue
        jsonschema.Draft202012Validator(_schema(name)).validate(doc)
        seen.add(doc["kind"])
    assert seen == {"Rollout", "AnalysisTemplate", "PodMonitor", "PrometheusRule"}


def test_the_crd_schemas_reject_a_misplaced_field() -> None:
    rollout = next(d for d in build("overlays/production") if d["kind"] == "Rollout")
    broken = yaml.safe_load(yaml.safe_dump(rollout))
    broken["spec"]["strategy"]["canary"]["steps"].insert(0, {"setWeigth": 10})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(_schema("rollout.yaml")).validate(broken)
    template = next(d for d in build("overlays/production") if d["kind"] == "AnalysisTemplate")
    broken = yaml.safe_load(yaml.safe_dump(template))
    broken["spec"]["metrics"][0]["inconclusive"] = 2
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(_schema("analysistemplate.yaml")).validate(broken)
