"""Rendered manifests against Kubernetes' own schemas (strict) and the custom resources' schemas.

Every overlay is built with `kubectl kustomize`; each built-in object is validated with
`kubernetes-validate --strict` for the oldest and the newest Kubernetes we support (gRPC probes
are GA from 1.27), and each Argo Rollouts / Prometheus Operator object against the trimmed CRD
schemas kept in data/crd-schemas/ (unknown or misplaced fields fail).
"""

from __future__ import annotations

import re
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


# --- digest pins (deploy/k8s/pin_images.py) --------------------------------------------------


def _pin_images() -> Any:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("posada_pin_images", K8S / "pin_images.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_pinning_every_image_makes_the_production_build_pull_by_digest(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed")
    pin = _pin_images()
    copy = tmp_path / "deploy"
    shutil.copytree(REPO_ROOT / "deploy", copy)
    overlay = copy / "k8s" / "overlays" / "production" / "kustomization.yaml"
    before = overlay.read_text()
    names = [i["name"] for i in pin.load_images(overlay)]
    assert {"envoyproxy/envoy", "posada/nlp"} <= set(names)
    assert pin.main(["check", "--overlay", str(overlay)]) == 1  # the repo ships tags: gate works
    pins = {
        name: f"registry.example.com/{name.split('/')[-1]}@sha256:{i:064x}"
        for i, name in enumerate(names, start=1)
    }
    assert pin.main(["set", *(f"{k}={v}" for k, v in pins.items()), "--overlay", str(overlay)]) == 0
    assert pin.main(["check", "--overlay", str(overlay)]) == 0
    after = overlay.read_text()
    kept = [line for line in before.splitlines() if line.startswith("#")]
    assert kept and all(line in after for line in kept), "comments outside images: must survive"
    out = subprocess.run(
        [kubectl, "kustomize", str(overlay.parent)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    images = re.findall(r"^\s+image: (\S+)$", out.stdout, re.M)
    assert images and set(images) == set(pins.values())


def test_pin_refuses_a_tag_or_an_unknown_image(tmp_path: Path) -> None:
    pin = _pin_images()
    overlay = tmp_path / "kustomization.yaml"
    shutil.copy(K8S / "overlays" / "production" / "kustomization.yaml", overlay)
    before = overlay.read_text()
    assert (
        pin.main(["set", "posada/nlp=registry.example.com/nlp:1.2", "--overlay", str(overlay)]) == 2
    )
    assert pin.main(["set", f"posada/spa=r/spa@sha256:{'a' * 64}", "--overlay", str(overlay)]) == 2
    assert overlay.read_text() == before
