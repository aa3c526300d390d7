"""Local staff accounts: argon2id password hashes in PostgreSQL (schema `console`).

`hotelctl staff add|reset` and the login page both go through here. An unknown login name
costs the same argon2 verification as a wrong password, so response times do not tell which
accounts exist. Hashes made with older parameters are upgraded on the next good login.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Literal

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

Role = Literal["agent", "manager"]
ROLES: tuple[Role, ...] = ("agent", "manager")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
_LOGIN = re.compile(r"^[A-Za-z0-9._@+-]{2,120}$")

_hasher = PasswordHasher()
# Verified against when the login name is unknown (same cost as a real check).
_DUMMY_HASH = _hasher.hash("posada-console-no-such-account")


class AccountError(ValueError):
    """Bad input for an account (the message says what to change)."""


@dataclass(frozen=True)
class StaffAccount:
    staff_id: str
    display_name: str
    hotel_id: str
    role: Role
    active: bool = True

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


def _account(row: asyncpg.Record) -> StaffAccount:
    return StaffAccount(
        row["staff_id"], row["display_name"], row["hotel_id"], row["role"], row["active"]
    )


async def _hash(password: str) -> str:
    """argon2 takes tens of milliseconds on purpose: off the event loop."""
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password can have at most {MAX_PASSWORD} characters")


def validate(staff_id: str, display_name: str, hotel_id: str, role: str) -> None:
    if not _LOGIN.match(staff_id):
        raise AccountError(
            "the login name is 2-120 letters, digits or . _ @ + - (e.g. maria or maria@hotel.com)"
        )
    if not display_name.strip() or len(display_name) > 200:
        raise AccountError("the display name is required (at most 200 characters)")
    if not hotel_id.strip() or len(hotel_id) > 64:
        raise AccountError("the hotel id is required (as in the PMS, e.g. 1)")
    if role not in ROLES:
        raise AccountError(f"the role is one of {', '.join(ROLES)}")


class Accounts:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def add(
        self, staff_id: str, display_name: str, hotel_id: str, role: str, password: str
    ) -> StaffAccount:
        """Creates an account; AccountError if the name is taken or the input is bad."""
        validate(staff_id, display_name, hotel_id, role)
        check_password(password)
        try:
            row = await self.pool.fetchrow(
                """INSERT INTO console.staff (staff_id, display_name, hotel_id, role, password_hash)
                   VALUES ($1, $2, $3, $4, $5) RETURNING *""",
                staff_id,
                display_name.strip(),
                hotel_id.strip(),
                role,
                await _hash(password),
            )
        except asyncpg.UniqueViolationError as exc:
            raise AccountError(f"there is already an account {staff_id!r}; use reset") from exc
        return _account(row)

    async def reset_password(self, staff_id: str, password: str) -> StaffAccount:
        check_password(password)
        row = await self.pool.fetchrow(
            """UPDATE console.staff SET password_hash = $2, active = true, updated_at = now()
               WHERE staff_id = $1 RETURNING *""",
            staff_id,
            await _hash(password),
        )
        if row is None:
            raise AccountError(f"no account {staff_id!r}; use add")
        return _account(row)

    async def get(self, staff_id: str) -> StaffAccount | None:
        row = await self.pool.fetchrow("SELECT * FROM console.staff WHERE staff_id = $1", staff_id)
        return _account(row) if row else None

    async def names(self, hotel_id: str) -> dict[str, str]:
        rows = await self.pool.fetch(
            "SELECT staff_id, display_name FROM console.staff WHERE hotel_id = $1", hotel_id
        )
        return {r["staff_id"]: r["display_name"] for r in rows}

    async def by_oidc(self, identity: str, email: str) -> StaffAccount | None:
        """The account linked to an OIDC identity; links it on first use by verified e-mail."""
        row = await self.pool.fetchrow(
            "SELECT * FROM console.staff WHERE oidc_identity = $1 AND active", identity
        )
        if row is None and email:
            row = await self.pool.fetchrow(
                """UPDATE console.staff SET oidc_identity = $1, updated_at = now()
                   WHERE staff_id = $2 AND oidc_identity IS NULL AND active RETURNING *""",
                identity,
                email,
            )
        return _account(row) if row else None

    async def authenticate(self, staff_id: str, password: str) -> StaffAccount | None:
        """The account if the password is right; None otherwise (unknown, wrong, inactive)."""
        row = None
        if _LOGIN.match(staff_id) and len(password) <= MAX_PASSWORD:
            row = await self.pool.fetchrow(
                "SELECT * FROM console.staff WHERE staff_id = $1", staff_id
            )
        stored = row["password_hash"] if row is not None and row["password_hash"] else _DUMMY_HASH
        if not await asyncio.to_thread(_verify, stored, password[:MAX_PASSWORD]):
            return None
        if row is None or not row["active"] or stored is _DUMMY_HASH:
            return None
        if _hasher.check_needs_rehash(stored):
            await self.pool.execute(
                "UPDATE console.staff SET password_hash = $2 WHERE staff_id = $1",
                staff_id,
                await _hash(password),
            )
        return _account(row)
