"""The Python Dockerfiles (every service, web app and simulator) stay copies of one recipe
(ADR 0015): same base image and uv, and the ports a service image listens on are the ones
deploy/mesh.yaml gives it."""

from __future__ import annotations

import re

import pytest
from hotelctl.mesh import REPO_ROOT, load_mesh

MESH = load_mesh()
DOCKERFILES = sorted(
    [*REPO_ROOT.glob("services/*/Dockerfile"), *REPO_ROOT.glob("sims/*/Dockerfile")]
)


def _arg(text: str, name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", text, re.M)
    assert match, f"ARG {name} missing"
    return match.group(1)


def test_every_python_image_pins_the_same_base_and_uv() -> None:
    expected = {
        *(f"services/{name}/Dockerfile" for name in MESH.services),
        *(f"services/{name}/Dockerfile" for name in MESH.raw.get("web") or {}),
        *(f"sims/{name}/Dockerfile" for name in MESH.simulators),
    }
    assert {str(path.relative_to(REPO_ROOT)) for path in DOCKERFILES} == expected
    pins = {
        str(path.relative_to(REPO_ROOT)): (
            _arg(path.read_text(), "PYTHON_IMAGE"),
            _arg(path.read_text(), "UV_VERSION"),
        )
        for path in DOCKERFILES
    }
    assert len(set(pins.values())) == 1, pins


@pytest.mark.parametrize("name", sorted(MESH.services))
def test_service_image_listens_where_the_mesh_says(name: str) -> None:
    text = (REPO_ROOT / "services" / name / "Dockerfile").read_text()
    spec = MESH.services[name]
    assert f"SERVICE_NAME={name}" in text
    assert re.search(rf"\bGRPC_PORT={spec.grpc_port}\b", text)
    assert re.search(rf"\bMETRICS_PORT={spec.metrics_port}\b", text)
    if spec.http_port:
        assert re.search(rf"\bGATEWAY_HTTP_PORT={spec.http_port}\b", text)
