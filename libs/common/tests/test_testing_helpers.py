"""The port helpers tests rely on do what they promise."""

from __future__ import annotations

import errno
import socket

import pytest
from posada_common.testing import closed_port, start_on_free_port


def test_a_closed_port_refuses_connections_and_cannot_be_taken() -> None:
    with closed_port() as port:
        with socket.socket() as client, pytest.raises(ConnectionRefusedError):
            client.connect(("127.0.0.1", port))
        with socket.socket() as other, pytest.raises(OSError) as taken:
            other.bind(("127.0.0.1", port))
        assert taken.value.errno == errno.EADDRINUSE


def test_start_on_free_port_picks_again_when_the_port_was_taken() -> None:
    tried: list[int] = []

    def start(port: int) -> int:
        tried.append(port)
        if len(tried) < 3:
            raise OSError(errno.EADDRINUSE, "Address already in use")
        return port

    assert start_on_free_port(start) == tried[-1]
    assert len(tried) == 3


def test_start_on_free_port_does_not_hide_other_failures() -> None:
    def start(port: int) -> None:
        raise RuntimeError("config error")

    with pytest.raises(RuntimeError, match="config error"):
        start_on_free_port(start)
