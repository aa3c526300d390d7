"""The whole mesh, started the way `make run` starts it (`hotelctl up`), once per e2e session.

It runs on shifted ports (POSADA_PORT_OFFSET) and its own data folder so it never collides
with a developer's running mesh. Services export traces to an in-test OTLP collector.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hotelctl.mesh import Mesh, load_mesh
from posada_common.testing import free_port

from tests.e2e.otlp_collector import Collector, start_collector

# Shifted so every port sits outside Linux's ephemeral range (32768-60999): a port picked by
# bind(0) elsewhere, or the local end of any outgoing connection, can never hold one of ours.
OFFSET = int(os.environ.get("E2E_PORT_OFFSET", "11000"))
START_TIMEOUT = 240


@dataclass
class RunningMesh:
    mesh: Mesh
    proc: subprocess.Popen[bytes]
    run_dir: Path
    collector: Collector
    log_path: Path
    started_in: float

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
        if k not in {"REDIS_URL", "POSTGRES_URL", "PMS_BASE_URL", "WHATSAPP_API_BASE"}
    }
    env.update(
        POSADA_RUN_DIR=str(run_dir),
        POSADA_PORT_OFFSET=str(OFFSET),
        OTLP_ENDPOINT=f"127.0.0.1:{otlp_port}",
        OTEL_BSP_SCHEDULE_DELAY="100",
        ENVIRONMENT="development",
        SHUTDOWN_GRACE_SECONDS="5",
        POSADA_OBSERVE="1",  # a real Prometheus with the project's rules (test_7x_*)
        POSADA_SCRAPE_INTERVAL="1s",
    )
    return env


@pytest.fixture(scope="session")
def running_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMesh]:
    run_dir = tmp_path_factory.mktemp("mesh-run")
    otlp_port = free_port()
    collector_server, collector = start_collector(otlp_port)
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
    try:
        while not (run_dir / "state.json").exists():
            if proc.poll() is not None:
                pytest.fail(f"hotelctl up exited with {proc.returncode}:\n{mesh.log()[-4000:]}")
            if time.monotonic() - t0 > START_TIMEOUT:
                pytest.fail(f"mesh not up after {START_TIMEOUT}s:\n{mesh.log()[-4000:]}")
            time.sleep(0.25)
        mesh.started_in = time.monotonic() - t0
        yield mesh
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        collector_server.stop(0)
