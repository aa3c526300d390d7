"""`hotelctl staff add|reset` against a real PostgreSQL: argon2 hashes, clear errors."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from posada_console.accounts import Accounts

HOTELCTL = str(Path(sys.executable).parent / "hotelctl")


@pytest.fixture(scope="module")
async def staff_db(postgres_url: str):  # type: ignore[no-untyped-def]
    name = f"staff_test_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base, _, _ = postgres_url.rpartition("/")
    yield f"{base}/{name}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def _run(url: str, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HOTELCTL, "staff", *args, "--password-stdin", "--postgres-url", url],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_add_then_reset_stores_argon2_hashes_that_log_in(staff_db: str) -> None:
    login = f"maria{uuid.uuid4().hex[:6]}"
    added = _run(
        staff_db,
        "add",
        login,
        "--name",
        "María Pérez",
        "--hotel",
        "1",
        "--role",
        "manager",
        password="first password 1",
    )
    assert added.returncode == 0, added.stderr
    assert "manager of hotel 1" in added.stdout and "first password" not in added.stdout
    pool = await asyncpg.create_pool(staff_db, min_size=1, max_size=2)
    try:
        stored = await pool.fetchval(
            "SELECT password_hash FROM console.staff WHERE staff_id = $1", login
        )
        assert stored.startswith("$argon2id$")
        accounts = Accounts(pool)
        assert (await accounts.authenticate(login, "first password 1")) is not None
        reset = _run(staff_db, "reset", login, password="second password 2")
        assert reset.returncode == 0, reset.stderr
        assert await accounts.authenticate(login, "first password 1") is None
        account = await accounts.authenticate(login, "second password 2")
        assert account is not None and account.role == "manager" and account.hotel_id == "1"
    finally:
        await pool.close()


def test_bad_input_is_refused_with_a_clear_message(staff_db: str) -> None:
    login = f"juan{uuid.uuid4().hex[:6]}"
    short = _run(staff_db, "add", login, "--name", "Juan", "--hotel", "1", password="short")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    ok = _run(staff_db, "add", login, "--name", "Juan", "--hotel", "1", password="long enough 1")
    assert ok.returncode == 0, ok.stderr
    again = _run(staff_db, "add", login, "--name", "Juan", "--hotel", "1", password="long enough 1")
    assert again.returncode == 2 and "already an account" in again.stderr
    missing = _run(staff_db, "reset", "nobody-here", password="long enough 1")
    assert missing.returncode == 2 and "no account" in missing.stderr
    no_hotel = _run(staff_db, "add", "pepe", "--name", "Pepe", password="long enough 1")
    assert no_hotel.returncode == 2 and "--hotel" in no_hotel.stderr
