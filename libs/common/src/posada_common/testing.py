"""Helpers for tests: ports and waiting for servers. Not imported by production code.

Picking a port by binding to 0 and closing the socket races with everything else on the
machine (another test, another helper's mesh): the port may be taken before the server binds
it. So, in order of preference:

* let the server bind port 0 itself and ask it which port it got (gRPC `add_insecure_port`,
  aiohttp sites, `socket.bind(("127.0.0.1", 0))`);
* when a server process needs its port up front, start it with `start_on_free_port`, which
  picks again when the port turned out to be taken;
* for "an address where nothing listens", hold `closed_port()`: the port stays bound (so no one
  else can take it) but is never listened on, so connections to it are refused.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0 and read it back).

    Racy by nature: prefer the alternatives in this module's docstring.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_address_in_use(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return True
    text = str(exc).lower()
    return "address already in use" in text or "eaddrinuse" in text


def start_on_free_port(
    start: Callable[[int], T],
    *,
    attempts: int = 5,
    host: str = "127.0.0.1",
    clashed: Callable[[BaseException], bool] = is_address_in_use,
) -> T:
    """`start(port)` on a free port, picking another one while the port turns out taken."""
    for attempt in range(attempts):
        try:
            return start(free_port(host))
        except Exception as exc:
            if attempt + 1 == attempts or not clashed(exc):
                raise
    raise AssertionError("unreachable")


@contextlib.contextmanager
def closed_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port held bound but never listened on: connecting to it is refused, for as long as
    the block runs, and nobody else can start a server on it meanwhile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        yield int(sock.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {timeout}s")
