"""How `hotelctl` stops its children: politely first, then by killing the process group.

Each test waits for the child to say it is ready (its log), never for a fixed time, and checks
*how* the child ended (exit code or signal), so a stop that never escalates cannot pass.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from pathlib import Path

from hotelctl.mesh import load_mesh
from hotelctl.processes import ManagedProcess, Restarts, wait_until
from hotelctl.runner import MeshRun, Supervisor
from rich.console import Console

STUBBORN = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)
POLITE = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def _started(name: str, code: str, tmp_path: Path) -> ManagedProcess:
    proc = ManagedProcess(name, [sys.executable, "-c", code], log_path=tmp_path / name).start()
    wait_until(lambda: "ready" in proc.tail(), timeout=30, what=f"{name} to install its handler")
    return proc


def test_stop_escalates_to_sigkill_when_a_child_ignores_sigterm(tmp_path: Path) -> None:
    proc = _started("stubborn", STUBBORN, tmp_path)
    returncode = proc.stop(timeout=0.5)
    assert returncode == -signal.SIGKILL  # SIGTERM was ignored: only the kill ended it
    assert not proc.running()


# A parent that ignores SIGTERM and a grandchild (same process group) that ignores it too.
_STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('child', flush=True); time.sleep(60)"])
print(f"up {child.pid}", flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_stop_escalates_to_kill_when_a_child_ignores_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "log"
    proc = ManagedProcess("stubborn", [sys.executable, "-c", _STUBBORN], log_path=log).start()
    # Wait until both have installed SIG_IGN, so SIGTERM alone provably cannot stop them.
    wait_until(lambda: "child" in log.read_text() and "up " in log.read_text(), 10)
    grandchild = int(log.read_text().split("up ")[1].split()[0])
    proc.stop(timeout=0.5)
    assert proc.proc is not None and proc.proc.returncode == -signal.SIGKILL
    wait_until(lambda: not _alive(grandchild), 5, what="grandchild killed with its group")


def test_stop_does_not_kill_a_child_that_exits_on_sigterm(tmp_path: Path) -> None:
    proc = _started("polite", POLITE, tmp_path)
    assert proc.stop(timeout=30) == 0  # it exited by itself: no escalation


def test_children_get_their_own_process_group(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(30)"], log_path=tmp_path / "log"
    ).start()
    try:
        assert proc.pid is not None
        assert os.getpgid(proc.pid) == proc.pid  # setsid ran before exec
    finally:
        proc.stop()
    assert proc.proc is not None and proc.proc.returncode == -signal.SIGTERM


def test_restart_backoff_doubles_to_a_ceiling_and_resets_after_a_healthy_run() -> None:
    policy = Restarts(first=0.5, ceiling=10.0, healthy_after=60.0)
    delays = [policy.schedule(now=0.0, ran_for=1.0) for _ in range(7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.schedule(now=100.0, ran_for=61.0) == 0.5
    assert policy.due == 100.5


def test_supervisor_restarts_a_killed_child_and_records_it_in_the_state_file(
    tmp_path: Path,
) -> None:
    proc = ManagedProcess(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], log_path=tmp_path / "log"
    ).start()
    run = MeshRun(load_mesh(offset=0), tmp_path, {}, [proc])
    supervisor = Supervisor(run, Console(file=io.StringIO()))
    try:
        first = proc.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: not proc.running(), 5)

        def restarted() -> bool:
            supervisor.tick()
            return proc.running() and proc.pid != first

        wait_until(restarted, 10, interval=0.05, what="restart")
        state = json.loads((tmp_path / "state.json").read_text())
        assert state["processes"]["sleeper"]["restarts"] == 1
        assert state["processes"]["sleeper"]["pid"] == proc.pid
        assert state["processes"]["sleeper"]["last_exit"] == -signal.SIGKILL
        supervisor.tick()  # a running child is left alone
        assert proc.restarts == 1
    finally:
        run.stop()
    assert not proc.running()
