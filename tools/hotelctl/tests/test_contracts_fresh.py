"""Generated contracts in libs/contracts must match protos/ (run `make proto`)."""

from __future__ import annotations

import subprocess
import sys

from hotelctl.mesh import REPO_ROOT


def test_generated_contracts_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "gen_protos.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_protos_pass_buf_lint() -> None:
    buf = REPO_ROOT / ".venv" / "bin" / "buf"
    result = subprocess.run(
        [str(buf), "lint"], cwd=REPO_ROOT / "protos", capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
