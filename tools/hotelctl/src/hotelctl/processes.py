"""Child processes that always die with their parent, and come back when they crash.

Every process `hotelctl` starts gets its own process group and PR_SET_PDEATHSIG (SIGTERM when
the parent dies, even by SIGKILL), so Ctrl-C, SIGTERM or a crash of hotelctl leaves no orphans.
`Restarts` is the supervision policy of `hotelctl up` (ADR 0008): a child that exits on its own
is started again after a bounded, doubling backoff that resets once it has stayed up a while.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _preexec(user_switch: Callable[[], None] | None = None) -> Callable[[], None]:
    def run() -> None:
        os.setpgid(0, 0)
        with contextlib.suppress(Exception):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if user_switch is not None:
            user_switch()

    return run


class ManagedProcess:
    """A named child process with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user_switch: Callable[[], None] | None = None,
        stop_signal: int = signal.SIGTERM,
        prepare: Callable[[], None] | None = None,
    ):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.user_switch = user_switch
        self.stop_signal = stop_signal
        self.prepare = prepare  # runs in the parent before every (re)start
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.last_exit: int | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.prepare is not None:
            self.prepare()
        self.started_at = time.monotonic()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=self.cwd,
            preexec_fn=_preexec(self.user_switch),
        )
        log.close()
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Ask politely, wait, then kill the whole process group."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.signal(self.stop_signal)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers in the group
        return self.proc.returncode

    def exit_code(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    def restart(self) -> ManagedProcess:
        """Start again after a crash: first reap what is left of the old process group."""
        if self.proc is not None:
            self.last_exit = self.proc.poll()
            self.stop(timeout=2)
        self.restarts += 1
        return self.start()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def wait_until(
    predicate: Callable[[], bool], timeout: float, interval: float = 0.1, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what or predicate}")


@dataclass
class Restarts:
    """Backoff for restarting one crashed child: `first` doubling up to `ceiling` seconds,
    back to `first` once the child has run for `healthy_after` seconds."""

    first: float = 0.5
    ceiling: float = 10.0
    healthy_after: float = 60.0
    next_delay: float = 0.5
    due: float | None = None  # monotonic time of the scheduled restart, None when none is

    def __post_init__(self) -> None:
        self.next_delay = self.first

    def schedule(self, now: float, ran_for: float) -> float:
        """The child just exited after `ran_for` seconds: when to start it again."""
        if ran_for >= self.healthy_after:
            self.next_delay = self.first
        delay = self.next_delay
        self.next_delay = min(self.ceiling, self.next_delay * 2)
        self.due = now + delay
        return delay
