"""Credentials for the mesh `hotelctl up` starts, and for hotelctl's own calls; masked printing.

`hotelctl up` generates development mesh credentials once into `<run dir>/credentials/`
(folder 0700, files 0600) and hands each child only its own private key through the
environment. It refuses to do so with ENVIRONMENT=production: real credentials come from the
deployment's secret store, never from a generator on the machine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from posada_common.auth_keys import (
    ENV_PRIVATE_KEY,
    MeshCredentials,
    credentials_from_env,
    load_or_create_dev_credentials,
)

from hotelctl.mesh import REPO_ROOT


class ProductionCredentialsRequired(RuntimeError):
    """`hotelctl up` asked to invent credentials for a production run."""


def credentials_dir(run_dir: Path) -> Path:
    return run_dir / "credentials"


def dev_credentials(run_dir: Path, env: Mapping[str, str]) -> MeshCredentials:
    """The run's development credentials, created on first use (reused afterwards)."""
    if env.get("ENVIRONMENT", "development") == "production":
        raise ProductionCredentialsRequired(
            "hotelctl up generates development credentials only; in production give each "
            "service MESH_PRIVATE_KEY / MESH_PUBLIC_KEYS from your secret store"
        )
    return load_or_create_dev_credentials(credentials_dir(run_dir))


def operator_credentials(env: Mapping[str, str] | None = None) -> MeshCredentials:
    """What hotelctl's own calls (`dlq`) sign with: MESH_* from the environment if set,
    else the local run's development credentials (`POSADA_RUN_DIR` or `.run/`)."""
    env = os.environ if env is None else env
    if env.get(ENV_PRIVATE_KEY):
        return credentials_from_env(env, "hotelctl")
    run_dir = Path(env.get("POSADA_RUN_DIR") or REPO_ROOT / ".run")
    if credentials_dir(run_dir).is_dir():
        return load_or_create_dev_credentials(credentials_dir(run_dir))
    return MeshCredentials(identity="hotelctl")


def mask(value: str) -> str:
    """`abcd…(32 chars)`: enough to tell which secret is in use, never enough to use it."""
    if len(value) <= 8:
        return f"…({len(value)} chars)"
    return f"{value[:4]}…({len(value)} chars)"
