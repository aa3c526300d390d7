"""Schema migrations: applied once under an advisory lock, and history cannot be rewritten."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from posada_conversation.migrate import MigrationError, load_migrations, migrate


@pytest.fixture
async def empty_db(postgres_url):  # type: ignore[no-untyped-def]
    name = f"conv_mig_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield f"{postgres_url.rpartition('/')[0]}/{name}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def test_replicas_starting_together_apply_each_migration_once(empty_db):  # type: ignore[no-untyped-def]
    conns = [await asyncpg.connect(empty_db) for _ in range(3)]
    try:
        applied = await asyncio.gather(*(migrate(c) for c in conns))
        versions = [m.version for m in load_migrations()]
        assert sorted(v for run in applied for v in run) == versions  # each exactly once
        rows = await conns[0].fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == versions
    finally:
        for c in conns:
            await c.close()


async def test_an_edited_applied_migration_stops_start_up(empty_db):  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(empty_db)
    try:
        await migrate(conn)
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(MigrationError, match="edited"):
            await migrate(conn)
    finally:
        await conn.close()
