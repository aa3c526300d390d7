from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from hotelctl.processes import ManagedProcess


def test_stop_escalates_to_kill_when_a_child_ignores_sigterm(tmp_path: Path) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    proc = ManagedProcess(
        "stubborn", [sys.executable, "-c", code], log_path=tmp_path / "log"
    ).start()
    time.sleep(0.5)
    t0 = time.monotonic()
    proc.stop(timeout=0.5)
    assert time.monotonic() - t0 < 5
    assert not proc.running()


def test_children_get_their_own_process_group(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(30)"], log_path=tmp_path / "log"
    ).start()
    try:
        time.sleep(0.2)
        assert proc.pid is not None
        assert os.getpgid(proc.pid) == proc.pid
    finally:
        proc.stop()
    assert proc.proc is not None and proc.proc.returncode == -signal.SIGTERM
