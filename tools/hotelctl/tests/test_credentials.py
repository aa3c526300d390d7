"""`hotelctl up` credentials: generated once for development, never invented for production,
printed masked; compose env files and Kubernetes Secrets carry one private key per service."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hotelctl.credentials import (
    ProductionCredentialsRequired,
    compose_env,
    dev_credentials,
    k8s_secrets,
    mask,
)
from hotelctl.runner import shown_secret


def test_supplied_secrets_are_masked_and_dev_defaults_say_so() -> None:
    assert mask("ABCDEFGHIJKLMNOPQRSTUVWXYZ123456") == "ABCD…(32 chars)"
    assert mask("short") == "…(5 chars)"
    env = {"PMS_API_KEY": "K7Q2M9X4ZP1L8W3R6T5Y0U2I4O6P8A1S"}
    shown = shown_secret("PMS_API_KEY", env, supplied=env)
    assert shown == "K7Q2…(32 chars)" and "M9X4" not in shown
    dev = {"PMS_API_KEY": "DEVKEYPOSADA0000000000000000000Q"}
    assert shown_secret("PMS_API_KEY", dev, supplied={}).endswith("(dev default)")


def test_production_never_gets_generated_credentials(tmp_path: Path) -> None:
    with pytest.raises(ProductionCredentialsRequired):
        dev_credentials(tmp_path, {"ENVIRONMENT": "production"})
    assert not (tmp_path / "credentials").exists()


def test_compose_env_and_k8s_secrets_give_each_service_only_its_own_key(tmp_path: Path) -> None:
    creds = dev_credentials(tmp_path, {})
    services = ["gateway", "pms"]
    env = dict(
        line.split("=", 1) for line in compose_env(creds, services).splitlines() if "=" in line
    )
    assert env["POSADA_GATEWAY_MESH_KEY"] == creds.env_for("gateway")["MESH_PRIVATE_KEY"]
    assert env["POSADA_PMS_MESH_KEY"] != env["POSADA_GATEWAY_MESH_KEY"]
    assert "console:" in env["POSADA_MESH_PUBLIC_KEYS"]
    docs = list(yaml.safe_load_all(k8s_secrets(creds, [*services, "console"], "posada")))
    by_name = {d["metadata"]["name"]: d["stringData"] for d in docs}
    assert set(by_name) == {
        "gateway-mesh-credentials",
        "pms-mesh-credentials",
        "console-mesh-credentials",
    }
    assert "STAFF_TOKEN_SIGNING_KEY" in by_name["console-mesh-credentials"]
    assert "STAFF_TOKEN_SIGNING_KEY" not in by_name["pms-mesh-credentials"]
