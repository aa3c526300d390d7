"""Runs near the end (before shutdown): no log of the whole run holds a secret.

The run was started with supplied (not dev-default) secrets, so every occurrence would be a
leak: the WhatsApp verify token (it arrives in the handshake's query string), app secret and
access token, the PMS API key, and every mesh private key.
"""

from __future__ import annotations

import contextlib
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningMesh

pytestmark = pytest.mark.e2e


def _logs(mesh: RunningMesh) -> dict[Path, str]:
    files = [mesh.log_path, *sorted((mesh.run_dir / "logs").glob("*.log"))]
    return {p: p.read_text(errors="replace") for p in files if p.exists()}


def test_handshakes_and_the_whole_run_leave_no_secret_in_any_log(
    running_mesh: RunningMesh,
) -> None:
    supplied = running_mesh.secrets
    token = supplied["WHATSAPP_VERIFY_TOKEN"]
    base = f"{running_mesh.public_url}/webhooks/whatsapp"
    url = f"{base}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=4242"
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200 and resp.read() == b"4242"
    # A marker request after the handshake: once Envoy logged it, the handshake is logged too.
    marker = f"/webhooks/whatsapp-zy-{time.time_ns()}"
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(
            f"{running_mesh.public_url}{marker}?hub.verify_token={token}", timeout=10
        ).close()
    envoy_log = running_mesh.run_dir / "logs" / "envoy.log"
    deadline = time.monotonic() + 30
    while marker not in envoy_log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "Envoy never logged the marker request"
        time.sleep(0.2)
    assert "/webhooks/whatsapp" in envoy_log.read_text(errors="replace")

    secrets = dict(supplied)
    for key_file in sorted((running_mesh.run_dir / "credentials").glob("*.key")):
        secrets[f"mesh key {key_file.stem}"] = key_file.read_text().strip()
    assert len(secrets) > len(supplied), "hotelctl up generated mesh credentials"
    leaks = [
        f"{name} in {path.name}"
        for path, text in _logs(running_mesh).items()
        for name, value in secrets.items()
        if value in text
    ]
    assert leaks == []
    # `make run` says which key it uses without showing it.
    key = supplied["PMS_API_KEY"]
    assert f"{key[:4]}…(32 chars)" in running_mesh.log()
