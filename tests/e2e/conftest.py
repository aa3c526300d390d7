"""The whole mesh, started the way `make run` starts it (`hotelctl up`), once per e2e session.

It runs on shifted ports (POSADA_PORT_OFFSET) and its own data folder so it never collides
with a developer's running mesh. Services export traces to an in-test OTLP collector.

The fixture's finalizer stops the mesh the way Ctrl-C or an orchestrator does (SIGTERM to
`hotelctl up`) and checks the promise of `make run`: every process stops within the grace
period, `hotelctl` exits 0, no orphan is left. A broken shutdown is reported as an error of the
session's last test, whatever order the tests ran in.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hotelctl.mesh import Mesh, load_mesh
from posada_common.auth import install_credentials
from posada_common.auth_keys import load_or_create_dev_credentials
from posada_common.testing import use_test_credentials

from tests.e2e.otlp_collector import Collector, start_collector

# Shifted so every port sits outside Linux's ephemeral range (32768-60999): a port picked by
# bind(0) elsewhere, or the local end of any outgoing connection, can never hold one of ours.
OFFSET = int(os.environ.get("E2E_PORT_OFFSET", "11000"))
START_TIMEOUT = 240
# Services drain 1 s and stop within 5 s each (SHUTDOWN_GRACE_SECONDS below), in order; Envoy
# and the stores are faster. A bound for the wait, not a speed target (speed is in bench/).
STOP_GRACE_SECONDS = 30
EXPECTED_PROCESSES = {
    "gateway",
    "conversation",
    "nlp",
    "audio",
    "pms",
    "envoy",
    "redis",
    "postgres",
}


def _alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


SUPPLIED_SECRETS = {
    "WHATSAPP_APP_SECRET": "appsecret" + secrets.token_hex(12),
    "WHATSAPP_VERIFY_TOKEN": "verify" + secrets.token_hex(12),
    "WHATSAPP_ACCESS_TOKEN": "EAAG" + secrets.token_hex(16),
    "PMS_API_KEY": secrets.token_hex(16).upper(),
}


@dataclass
class RunningMesh:
    mesh: Mesh
    proc: subprocess.Popen[bytes]
    run_dir: Path
    collector: Collector
    log_path: Path
    started_in: float
    # The secrets the run was started with (supplied, not dev defaults): see SUPPLIED_SECRETS.
    secrets: dict[str, str] = field(default_factory=lambda: dict(SUPPLIED_SECRETS))

    @property
    def mesh_address(self) -> str:
        return f"127.0.0.1:{self.mesh.mesh_port}"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.mesh.public_port}"

    def state(self) -> dict:
        return json.loads((self.run_dir / "state.json").read_text())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _env(run_dir: Path, otlp_port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"REDIS_URL", "POSTGRES_URL", "PMS_BASE_URL", "WHATSAPP_API_BASE", "GMAIL_API_BASE"}
    }
    env.update(
        POSADA_RUN_DIR=str(run_dir),
        POSADA_PORT_OFFSET=str(OFFSET),
        OTLP_ENDPOINT=f"127.0.0.1:{otlp_port}",
        OTEL_BSP_SCHEDULE_DELAY="100",
        ENVIRONMENT="development",
        SHUTDOWN_GRACE_SECONDS="5",
        # Supplied (not dev-default) secrets, fresh per session, so a test can grep every log
        # of the run for them (tests/e2e/test_zy_no_secrets_in_logs.py).
        **SUPPLIED_SECRETS,
        # E-mail: the gateway sweeps the Gmail stand-in's history every 2 s (a dropped push is
        # then caught within the tests' patience; production sweeps every minute).
        GMAIL_SWEEP_SECONDS="2",
        POSADA_OBSERVE="1",  # a real Prometheus with the project's rules (test_7x_*)
        POSADA_SCRAPE_INTERVAL="1s",
    )
    return env


def _stop_and_check(mesh: RunningMesh) -> list[str]:
    """SIGTERM `hotelctl up`, wait (bounded), and list every broken promise of the shutdown."""
    proc = mesh.proc
    try:
        pids = {name: int(info["pid"]) for name, info in mesh.state()["processes"].items()}
    except (FileNotFoundError, KeyError, ValueError):
        pids = {}
    problems = []
    if proc.poll() is not None:
        problems.append(f"hotelctl up had already exited with {proc.returncode}")
    else:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            problems.append(f"hotelctl up still running {STOP_GRACE_SECONDS}s after SIGTERM")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        if proc.returncode != 0:
            problems.append(f"hotelctl up exited with {proc.returncode}")
        elif "stopped." not in mesh.log():
            problems.append("hotelctl up did not report 'stopped.'")
    missing = EXPECTED_PROCESSES - set(pids)
    if pids and missing:
        problems.append(f"processes never started: {sorted(missing)}")
    orphans = {name: pid for name, pid in pids.items() if _alive(pid)}
    for pid in orphans.values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if orphans:
        problems.append(f"orphans after shutdown: {orphans}")
    return problems


@pytest.fixture(scope="session")
def running_mesh() -> Iterator[RunningMesh]:
    # Not under pytest's basetemp: every pytest run on the machine (other checkouts included)
    # resets /tmp/pytest-of-<user> to mode 0700, which cuts the unprivileged postgres user off
    # from its data folder in the middle of a session.
    run_dir = Path(tempfile.mkdtemp(prefix="posada-e2e-"))
    collector_server, collector, otlp_port = start_collector()
    log_path = run_dir / "hotelctl.log"
    t0 = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "hotelctl"), "up"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_env(run_dir, otlp_port),
            start_new_session=True,
        )
    mesh = RunningMesh(load_mesh(offset=OFFSET), proc, run_dir, collector, log_path, 0.0)
    started = False
    try:
        while not (run_dir / "state.json").exists():
            if proc.poll() is not None:
                pytest.fail(f"hotelctl up exited with {proc.returncode}:\n{mesh.log()[-4000:]}")
            if time.monotonic() - t0 > START_TIMEOUT:
                pytest.fail(f"mesh not up after {START_TIMEOUT}s:\n{mesh.log()[-4000:]}")
            time.sleep(0.25)  # polling for state.json, bounded by START_TIMEOUT
        mesh.started_in = time.monotonic() - t0
        started = True
        # Speak to the mesh with the credentials `hotelctl up` generated for this run.
        run_credentials = load_or_create_dev_credentials(run_dir / "credentials")
        install_credentials(run_credentials)
        use_test_credentials(run_credentials)  # trusted_channel() signs with the run's keys
        yield mesh
    finally:
        problems = _stop_and_check(mesh) if started else []
        if not started and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        collector_server.stop(0)
        if not problems:
            shutil.rmtree(run_dir, ignore_errors=True)  # kept for inspection when it went wrong
    assert not problems, "shutdown of the mesh:\n" + "\n".join(problems) + "\n" + mesh.log()[-3000:]
