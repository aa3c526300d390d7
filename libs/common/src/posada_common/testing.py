"""Helpers for tests: free ports and waiting for servers. Not imported by production code."""

from __future__ import annotations

import socket
import time

from posada_common.auth_keys import MeshCredentials, generate_credentials


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0 and read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {timeout}s")


_TEST_CREDENTIALS: MeshCredentials | None = None


def shared_test_credentials() -> MeshCredentials:
    """One set of generated mesh credentials per test session (every caller's key held).

    The root conftest installs them, so in-process servers verify and `dial(..., identity=X)`
    signs as any caller X without further set-up.
    """
    global _TEST_CREDENTIALS
    if _TEST_CREDENTIALS is None:
        _TEST_CREDENTIALS = generate_credentials()
    return _TEST_CREDENTIALS


def auth_env(identity: str) -> dict[str, str]:
    """Environment for a service subprocess speaking as `identity` with the test credentials."""
    return shared_test_credentials().env_for(identity)
