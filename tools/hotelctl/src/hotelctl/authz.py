"""Compiles the authorisation table of deploy/mesh.yaml into the services' policy file.

`make envoy` writes it, `make envoy-check` (CI) fails when it is stale; the services load the
compiled copy because their images carry libs/common but not the deploy folder.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from posada_common.auth_keys import CALLERS
from posada_common.auth_policy import POLICY_FILE, policy_from_mesh

from hotelctl.mesh import MESH_FILE


def render_policy(mesh_file: Path = MESH_FILE) -> str:
    return policy_from_mesh(yaml.safe_load(mesh_file.read_text()), CALLERS).to_json()


def write_policy(path: Path = POLICY_FILE) -> Path:
    path.write_text(render_policy())
    return path


def policy_is_fresh(path: Path = POLICY_FILE) -> bool:
    return path.exists() and path.read_text() == render_policy()
