"""A person on the simulator's chat page (headless Chromium via Playwright) talks to the real agent."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningMesh

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _ensure_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "update", "-qq"], env=env, check=False, timeout=600, capture_output=True
        )
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
            env=env,
            check=False,
            timeout=900,
            capture_output=True,
        )
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing; `make test` installs Debian's chromium (scripts/apt_install.sh)"
        )


def test_chat_page_says_hola_and_shows_the_agents_reply(
    running_mesh: RunningMesh, tmp_path: Path
) -> None:
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    number = "3464" + str(uuid.uuid4().int)[:7]
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{running_mesh.public_url}/sim/?number={number}&name=Lucia%20Gomez")
            page.fill("#text", "hola")
            page.press("#text", "Enter")
            page.locator(".msg.in", has_text="hola").first.wait_for(timeout=15_000)
            reply = page.locator(".msg.out").first
            reply.wait_for(timeout=30_000)
            text = reply.inner_text().lower()
            assert any(word in text for word in ("hola", "bienvenid", "ayud")), text
            buttons = page.locator(".msg.out button")
            assert buttons.count() >= 1, "the help menu buttons are rendered"
            page.screenshot(path=str(tmp_path / "chat.png"))
        finally:
            context.close()
