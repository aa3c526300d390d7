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

import yaml
from posada_common.auth_keys import (
    ENV_PRIVATE_KEY,
    ENV_PUBLIC_KEYS,
    ENV_STAFF_PUBLIC_KEY,
    ENV_STAFF_SIGNING_KEY,
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


def compose_env(creds: MeshCredentials, services: list[str]) -> str:
    """`--env-file` contents for docker-compose.yml: each service's key, the shared trust."""
    lines = ["# Posada mesh credentials for docker compose (development). Keep this file private."]
    for name in services:
        lines.append(f"POSADA_{name.upper()}_MESH_KEY={creds.env_for(name)[ENV_PRIVATE_KEY]}")
    shared = creds.env_for(services[0])
    lines.append(f"POSADA_MESH_PUBLIC_KEYS={shared[ENV_PUBLIC_KEYS]}")
    lines.append(f"POSADA_STAFF_TOKEN_PUBLIC_KEY={shared.get(ENV_STAFF_PUBLIC_KEY, '')}")
    if "console" in services:  # the staff console alone signs staff tokens
        signing = creds.env_for("console").get(ENV_STAFF_SIGNING_KEY, "")
        lines.append(f"POSADA_STAFF_TOKEN_SIGNING_KEY={signing}")
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
    return path


def k8s_secrets(creds: MeshCredentials, services: list[str], namespace: str) -> str:
    """One `<service>-mesh-credentials` Secret per service (for `kubectl apply -f -`)."""
    docs = []
    for name in services:
        env = creds.env_for(name)
        data = {k: env[k] for k in (ENV_PRIVATE_KEY, ENV_PUBLIC_KEYS, ENV_STAFF_PUBLIC_KEY)}
        if ENV_STAFF_SIGNING_KEY in env:
            data[ENV_STAFF_SIGNING_KEY] = env[ENV_STAFF_SIGNING_KEY]
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": f"{name}-mesh-credentials", "namespace": namespace},
                "stringData": data,
            }
        )
    return yaml.safe_dump_all(docs, sort_keys=False)
