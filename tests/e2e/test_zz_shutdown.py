"""Runs last: SIGTERM to `hotelctl up` stops every process within the grace period, no orphans."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.e2e.conftest import RunningMesh

pytestmark = pytest.mark.e2e
GRACE_SECONDS = 30  # services: drain 1s + grace 5s each, stopped in order; Envoy and stores faster


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _processes_of(run_dir: str, groups: set[int]) -> set[int]:
    """Every live process started for this mesh run: all inherit POSADA_RUN_DIR from hotelctl's
    environment, and each child leads its own process group (its workers and backends are in
    it; Redis rewrites its environment area for its process title, the group still finds it)."""
    marker = f"POSADA_RUN_DIR={run_dir}".encode()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                marked = marker in fh.read().split(b"\0")
            in_group = os.getpgid(pid) in groups
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
        if (marked or in_group) and _alive(pid):
            found.add(pid)
    return found


def test_sigterm_stops_the_whole_mesh_within_the_grace_period(running_mesh: RunningMesh) -> None:
    pids = {name: info["pid"] for name, info in running_mesh.state()["processes"].items()}
    groups = set(pids.values())
    descendants = _processes_of(str(running_mesh.run_dir), groups) - {running_mesh.proc.pid}
    # The scan must see the mesh (else "no orphans" below would prove nothing).
    assert set(pids.values()) <= descendants, (pids, descendants)
    assert set(pids) >= {
        "gateway",
        "conversation",
        "nlp",
        "audio",
        "pms",
        "envoy",
        "redis",
        "postgres",
    }
    t0 = time.monotonic()
    running_mesh.proc.send_signal(signal.SIGTERM)
    running_mesh.proc.wait(GRACE_SECONDS)
    elapsed = time.monotonic() - t0
    assert running_mesh.proc.returncode == 0, running_mesh.log()[-3000:]
    leftovers = {name: pid for name, pid in pids.items() if _alive(pid)}
    assert not leftovers, f"orphans after shutdown: {leftovers}"
    stray = _processes_of(str(running_mesh.run_dir), groups)
    assert not stray, f"processes of this mesh still running: {sorted(stray)}"
    assert elapsed < GRACE_SECONDS
    log = running_mesh.log()
    assert "stopped." in log
    print(f"mesh stopped in {elapsed:.1f}s")
