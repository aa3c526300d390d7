"""Envoy configs are generated from deploy/mesh.yaml, are fresh, and Envoy accepts them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hotelctl.envoy_config import OUT_DIR, VARIANTS, render, render_text
from hotelctl.mesh import REPO_ROOT, load_mesh

ENVOY = Path(sys.executable).parent / "envoy"


def _routes(config: dict, listener: str) -> list[dict]:
    for lst in config["static_resources"]["listeners"]:
        if lst["name"] == listener:
            hcm = lst["filter_chains"][0]["filters"][0]["typed_config"]
            return hcm["route_config"]["virtual_hosts"][0]["routes"]
    raise AssertionError(listener)


@pytest.mark.parametrize("variant", VARIANTS)
def test_committed_envoy_config_is_fresh(variant: str) -> None:
    committed = (OUT_DIR / f"envoy.{variant}.yaml").read_text()
    assert committed == render_text(load_mesh(), variant), "run `make envoy`"


@pytest.mark.parametrize("variant", VARIANTS)
def test_envoy_validates_every_variant(variant: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            str(ENVOY),
            "--mode",
            "validate",
            "-c",
            str(OUT_DIR / f"envoy.{variant}.yaml"),
            "--base-id",
            "99",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "OK" in result.stdout + result.stderr


def test_only_idempotent_methods_are_retried() -> None:
    routes = _routes(render(load_mesh(), "local"), "mesh")
    retried = {
        r["match"].get("path")
        for r in routes
        if "retry_policy" in r.get("route", {}) and "path" in r["match"]
    }
    assert "/hotel.pms.v1.PmsService/CheckAvailability" in retried
    assert "/hotel.nlp.v1.NlpService/Parse" in retried
    assert "/hotel.pms.v1.PmsService/CreateBooking" not in retried
    assert "/hotel.conversation.v1.ConversationService/HandleMessage" not in retried
    policies = {
        r["match"].get("path"): r["route"]["retry_policy"]["retry_on"]
        for r in routes
        if "retry_policy" in r["route"]
    }
    assert "unavailable" in policies["/hotel.nlp.v1.NlpService/Parse"]
    # pms retries QloApps itself; Envoy must not multiply that (one retry layer only).
    assert "unavailable" not in policies["/hotel.pms.v1.PmsService/CheckAvailability"]
    assert all("deadline-exceeded" not in p for p in policies.values())


def test_every_service_has_a_timeout_and_active_grpc_health_check() -> None:
    config = render(load_mesh(), "compose")
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    for name, spec in load_mesh().services.items():
        cluster = clusters[f"{name}_grpc"]
        check = cluster["health_checks"][0]
        assert check["grpc_health_check"]["service_name"] == spec.grpc_services[0]
        assert float(check["no_traffic_interval"].rstrip("s")) <= 5
        assert "outlier_detection" in cluster
    for route in _routes(config, "mesh"):
        assert route["route"]["timeout"] != "0s"


def test_admin_listens_on_loopback_only_in_every_variant() -> None:
    for variant in VARIANTS:
        assert (
            render(load_mesh(), variant)["admin"]["address"]["socket_address"]["address"]
            == "127.0.0.1"
        )


def test_production_variant_has_no_simulator_route() -> None:
    names = {r["name"] for r in _routes(render(load_mesh(), "k8s"), "public")}
    assert "sim" not in names
    assert "webhooks" in names


@pytest.mark.parametrize("variant", ["compose", "k8s"])
def test_listeners_on_every_interface_never_route_to_the_simulators(variant: str) -> None:
    config = render(load_mesh(), variant)
    for listener in ("public", "mesh", "stats"):
        for route in _routes(config, listener):
            target = route.get("route", {}).get("cluster", "")
            assert "sim" not in target and "qloapps" not in target, (listener, route)
    clusters = {c["name"] for c in config["static_resources"]["clusters"]}
    assert not {c for c in clusters if "sim" in c or "qloapps" in c}


def test_local_variant_keeps_the_chat_page_on_loopback_listeners_only() -> None:
    config = render(load_mesh(), "local")
    assert "sim" in {r["name"] for r in _routes(config, "public")}
    for listener in config["static_resources"]["listeners"]:
        assert listener["address"]["socket_address"]["address"] == "127.0.0.1"


@pytest.mark.parametrize("variant", VARIANTS)
def test_access_logs_never_record_query_strings(variant: str) -> None:
    for listener in render(load_mesh(), variant)["static_resources"]["listeners"]:
        hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
        for log in hcm["access_log"]:
            fields = log["typed_config"]["log_format"]["json_format"]
            text = " ".join(str(v) for v in fields.values())
            assert "%PATH(NQ" in fields["path"]
            assert "REQ(:PATH)" not in text and "X-ENVOY-ORIGINAL-PATH?:PATH)" not in text
            assert "AUTHORIZATION" not in text.upper() and "STAFF-TOKEN" not in text.upper()


def test_mesh_description_matches_the_protos_and_folders() -> None:
    mesh = load_mesh()
    ports = []
    for name, spec in mesh.services.items():
        assert (REPO_ROOT / "services" / name / "src" / f"posada_{name}").is_dir()
        domain = spec.package.split(".")[1]
        proto_text = "".join(
            p.read_text() for p in (REPO_ROOT / "protos" / "hotel" / domain / "v1").glob("*.proto")
        )
        for full in spec.grpc_services:
            assert f"service {full.rsplit('.', 1)[1]} " in proto_text
        for method in spec.idempotent:
            assert f"rpc {method}(" in proto_text
        ports += [spec.grpc_port, spec.metrics_port] + ([spec.http_port] if spec.http_port else [])
    ports += [
        mesh.public_port,
        mesh.mesh_port,
        mesh.admin_port,
        mesh.stats_port,
        mesh.redis_port,
        mesh.postgres_port,
    ]
    assert len(ports) == len(set(ports)), "ports must be unique"


def test_port_offset_shifts_every_port() -> None:
    base, shifted = load_mesh(), load_mesh(offset=1000)
    assert shifted.mesh_port == base.mesh_port + 1000
    assert shifted.services["nlp"].grpc_port == base.services["nlp"].grpc_port + 1000
    assert shifted.qloapps_port == base.qloapps_port + 1000


@pytest.mark.parametrize("variant", VARIANTS)
def test_envoy_configs_use_no_deprecated_field(variant: str) -> None:
    result = subprocess.run(
        [
            str(ENVOY),
            *("--mode", "validate", "-c", str(OUT_DIR / f"envoy.{variant}.yaml")),
            *("--base-id", "97", "--log-level", "info"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "deprecated" not in (result.stdout + result.stderr).lower()


def test_local_canary_twins_take_only_their_runtime_share() -> None:
    mesh = load_mesh()
    config = render(mesh, "local")
    shift = mesh.raw["canary"]["rehearsal"]["port_shift"]
    routes = _routes(config, "mesh")
    for name, svc in mesh.services.items():
        twins = [r for r in routes if r["route"].get("cluster") == f"{name}_canary_grpc"]
        assert twins, name
        for twin in twins:
            fraction = twin["match"]["runtime_fraction"]
            assert fraction["runtime_key"] == f"posada.canary.{name}"
            assert fraction["default_value"]["numerator"] == 0  # no canary, no traffic
            stable = routes[routes.index(twin) + 1]
            assert stable["name"] == twin["name"].removeprefix("canary:")
            assert stable["route"]["cluster"] == f"{name}_grpc"
        clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
        endpoint = clusters[f"{name}_canary_grpc"]["load_assignment"]["endpoints"][0]
        port = endpoint["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]["port_value"]
        assert port == svc.grpc_port + shift
    layers = [layer["name"] for layer in config["layered_runtime"]["layers"]]
    assert "admin" in layers
    for variant in ("compose", "k8s"):
        other = render(mesh, variant)
        assert "layered_runtime" not in other
        assert not any("_canary_" in c["name"] for c in other["static_resources"]["clusters"])
