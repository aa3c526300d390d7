"""Versioned migrations of the console's own schema (`console`), applied once at start-up.

Same rules as conversation's: numbered files in `migrations/`, one transaction under an
advisory lock (several replicas starting at once apply each file once), a checksum that stops
start-up when an applied file was edited. The console's tables live in their own schema so
they never collide with the services that share the database in development.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import asyncpg

ADVISORY_LOCK_ID = 0x706F73_636F6E73  # "pos" "cons"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


def load_migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("posada_console.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort()
    return found


async def migrate(conn: asyncpg.Connection) -> list[int]:
    """Apply pending migrations; returns the versions applied now."""
    applied: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK_ID)
        await conn.execute("CREATE SCHEMA IF NOT EXISTS console")
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS console.schema_migrations (
                   version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {
            r["version"]: r["checksum"]
            for r in await conn.fetch("SELECT version, checksum FROM console.schema_migrations")
        }
        for version, name, sql in load_migrations():
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if version in done:
                if done[version] != checksum:
                    raise MigrationError(
                        f"console migration {version:04d}_{name} was edited after it was "
                        "applied; add a new migration instead"
                    )
                continue
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO console.schema_migrations (version, name, checksum) "
                "VALUES ($1, $2, $3)",
                version,
                name,
                checksum,
            )
            applied.append(version)
    return applied
