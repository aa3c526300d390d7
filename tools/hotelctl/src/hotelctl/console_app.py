"""The staff console under `hotelctl up`: start it, wait for it through Envoy, dev logins.

Kept out of runner.py so the runner only calls three small hooks. The console is a web app
(not a gRPC service), so it is not in `SERVICE_ORDER` or the gRPC health checks; it is ready
when `/console/healthz` answers through Envoy's public listener. In development two accounts
of hotel 1 are created on first run (an agent and a manager) with a generated password kept
in `.run/credentials/console-dev-password` (0600) and printed, so a newcomer can log in at once.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from hotelctl import embedded
from hotelctl.mesh import Mesh
from hotelctl.processes import ManagedProcess

if TYPE_CHECKING:
    from posada_common.auth_keys import MeshCredentials
    from rich.console import Console

    from hotelctl.runner import MeshRun

DEV_ACCOUNTS = (
    ("recepcion", "Recepción (dev)", "agent"),
    ("direccion", "Dirección (dev)", "manager"),
)
DEV_HOTEL = "1"


def port(mesh: Mesh) -> int:
    return int(mesh.raw["web"]["console"]["http_port"]) + mesh.offset


def prefix(mesh: Mesh) -> str:
    return str(mesh.raw["web"]["console"]["public_prefix"]).rstrip("/")


def urls(mesh: Mesh) -> dict[str, str]:
    return {"staff console": f"http://127.0.0.1:{mesh.public_port}{prefix(mesh)}/"}


def start(run: MeshRun, credentials: MeshCredentials) -> ManagedProcess:
    """Starts the console process (after the services, before Envoy)."""
    mesh = run.mesh
    if embedded.port_open(port(mesh)):
        raise RuntimeError(f"console port {port(mesh)} is in use (another mesh running?)")
    env = {
        **run.env,
        **credentials.env_for("console"),
        "SERVICE_NAME": "console",
        "HTTP_PORT": str(port(mesh)),
        "PUBLIC_PREFIX": prefix(mesh),
        "METRICS_PORT": str(int(mesh.raw["web"]["console"]["metrics_port"]) + mesh.offset),
    }
    return ManagedProcess(
        "console",
        [sys.executable, "-m", "posada_console"],
        log_path=run.run_dir / "logs" / "console.log",
        env=env,
    ).start()


def _dev_password(run_dir: Path) -> str:
    path = run_dir / "credentials" / "console-dev-password"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    return password


async def _ensure_accounts(postgres_url: str, password: str) -> None:
    import asyncpg
    from posada_console.accounts import Accounts

    pool = await asyncpg.create_pool(postgres_url, min_size=1, max_size=2, timeout=10)
    try:
        accounts = Accounts(pool)
        for login, name, role in DEV_ACCOUNTS:
            if await accounts.get(login) is None:
                await accounts.add(login, name, DEV_HOTEL, role, password)
            else:  # the printed password always works, even if the file was deleted
                await accounts.reset_password(login, password)
    finally:
        await pool.close()


def wait_ready(run: MeshRun, timeout: float = 60.0) -> None:
    """Waits for the console through Envoy, then makes the dev accounts (development only)."""
    url = f"http://127.0.0.1:{run.mesh.public_port}{prefix(run.mesh)}/healthz"
    deadline = time.monotonic() + timeout
    while True:
        proc = run.process("console")
        if not proc.running():
            raise RuntimeError(f"console exited:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"console not answering at {url} after {timeout:.0f}s")
        time.sleep(0.3)
    if run.env.get("ENVIRONMENT", "development") == "development":
        asyncio.run(_ensure_accounts(run.env["POSTGRES_URL"], _dev_password(run.run_dir)))


def print_login(run: MeshRun, console: Console) -> None:
    if run.env.get("ENVIRONMENT", "development") != "development":
        return
    password = _dev_password(run.run_dir)
    logins = ", ".join(f"{login} ({role})" for login, _, role in DEV_ACCOUNTS)
    console.print(
        f"  staff console dev logins (hotel {DEV_HOTEL}): {logins}, password {password}"
        "  — more with `hotelctl staff add`"
    )
