"""SQLite storage: open, create schema, seed, reset, small helpers."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import schema


def now_str() -> str:
    # QloApps stores shop-local datetimes without zone; the stand-in uses UTC.
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def connect(db_path: str | Path) -> sqlite3.Connection:
    path = Path(db_path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    for stmt in schema.ddl():
        conn.execute(stmt)


def is_seeded(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT value FROM meta WHERE name = 'seeded'").fetchone()
    return row is not None


def drop_all(conn: sqlite3.Connection) -> None:
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for t in tables:
        conn.execute(f'DROP TABLE IF EXISTS "{t}"')


def open_store(db_path: str | Path, api_key: str) -> sqlite3.Connection:
    """Open (and on first use create + seed) the database. The API key is upserted every time."""
    from .seed import seed, upsert_main_key

    conn = connect(db_path)
    create_schema(conn)
    if not is_seeded(conn):
        conn.execute("BEGIN IMMEDIATE")
        try:
            seed(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    upsert_main_key(conn, api_key)
    return conn


def reset_store(conn: sqlite3.Connection, api_key: str) -> None:
    from .seed import seed, upsert_main_key

    conn.execute("BEGIN IMMEDIATE")
    try:
        drop_all(conn)
        create_schema(conn)
        seed(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    upsert_main_key(conn, api_key)


def insert(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> int:
    cols = list(values)
    vals = [
        json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for v in values.values()
    ]
    sql = (
        f"INSERT INTO {table} ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in cols)}) "
        f"VALUES ({', '.join('?' for _ in cols)})"
    )
    cur = conn.execute(sql, vals)
    return int(cur.lastrowid or 0)


def update(conn: sqlite3.Connection, table: str, row_id: int, values: dict[str, Any]) -> None:
    if not values:
        return
    sets = ", ".join(f'"{c}" = ?' for c in values)
    vals = [
        json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for v in values.values()
    ]
    conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*vals, row_id])


def tax_rate(conn: sqlite3.Connection, id_tax_rules_group: int) -> float:
    row = conn.execute(
        "SELECT rate FROM tax_rules_groups WHERE id = ?", (int(id_tax_rules_group or 0),)
    ).fetchone()
    return float(row["rate"]) if row else 0.0


def hotel_currency(conn: sqlite3.Connection, id_hotel: int) -> sqlite3.Row:
    row = conn.execute(
        "SELECT c.* FROM hotel_currency h JOIN ws_currencies c ON c.id = h.id_currency "
        "WHERE h.id_hotel = ?",
        (int(id_hotel),),
    ).fetchone()
    if row is None:
        row = default_currency(conn)
    return row


def default_currency(conn: sqlite3.Connection) -> sqlite3.Row:
    row = conn.execute(
        "SELECT c.* FROM ws_configurations k JOIN ws_currencies c ON c.id = CAST(k.value AS INTEGER) "
        "WHERE k.name = 'PS_CURRENCY_DEFAULT'"
    ).fetchone()
    if row is None:
        row = conn.execute("SELECT * FROM ws_currencies ORDER BY id LIMIT 1").fetchone()
    return row


def i18n_get(value: Any, lang: int = 1) -> str:
    if value is None:
        return ""
    try:
        d = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    if isinstance(d, dict):
        return str(d.get(str(lang)) or next(iter(d.values()), ""))
    return str(d)


@contextmanager
def tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (BEGIN IMMEDIATE takes SQLite's write lock up front)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
