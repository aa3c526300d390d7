"""How `hotelctl` stops its children: politely first, then by killing the process group.

Each test waits for the child to say it is ready (its log), never for a fixed time, and checks
*how* the child ended (exit code or signal), so a stop that never escalates cannot pass.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from hotelctl.processes import ManagedProcess, wait_until

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
