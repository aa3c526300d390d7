"""`hotelctl dlq` talks to the mesh at the same port offset as every other command."""

from __future__ import annotations

from hotelctl.cli import build_parser
from hotelctl.dlq import dlq_address
from hotelctl.mesh import load_mesh

BASE = load_mesh(offset=0).mesh_port


def test_offset_after_the_command_is_honoured(monkeypatch):
    monkeypatch.delenv("POSADA_PORT_OFFSET", raising=False)
    args = build_parser().parse_args(["dlq", "list", "--port-offset", "13000"])
    assert dlq_address(args) == f"127.0.0.1:{BASE + 13000}"


def test_offset_before_the_command_is_honoured(monkeypatch):
    monkeypatch.delenv("POSADA_PORT_OFFSET", raising=False)
    args = build_parser().parse_args(["--port-offset", "700", "dlq", "list"])
    assert dlq_address(args) == f"127.0.0.1:{BASE + 700}"


def test_offset_from_the_environment_is_honoured(monkeypatch):
    monkeypatch.setenv("POSADA_PORT_OFFSET", "13200")
    args = build_parser().parse_args(["dlq", "list"])
    assert dlq_address(args) == f"127.0.0.1:{BASE + 13200}"


def test_explicit_address_wins(monkeypatch):
    monkeypatch.setenv("POSADA_PORT_OFFSET", "13200")
    args = build_parser().parse_args(["dlq", "list", "--address", "127.0.0.1:1"])
    assert dlq_address(args) == "127.0.0.1:1"
