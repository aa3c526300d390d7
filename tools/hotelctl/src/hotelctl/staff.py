"""`hotelctl staff add|reset`: the console's local staff accounts, from the command line.

Passwords are read with a prompt (twice, not echoed) or from stdin with `--password-stdin`
(for scripts), never from the command line, where they would land in shell history and `ps`.
The console's schema is migrated first, so accounts can be made before the console ever ran.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

import asyncpg


def add_subcommand(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    staff = sub.add_parser("staff", help="staff accounts of the console (add, reset password)")
    staff.add_argument("action", choices=["add", "reset"])
    staff.add_argument("login", help="login name, e.g. maria or maria@hotel.com")
    staff.add_argument("--name", help="display name shown to colleagues (add)")
    staff.add_argument("--hotel", help="hotel id as in the PMS, e.g. 1 (add)")
    staff.add_argument("--role", choices=["agent", "manager"], default="agent")
    staff.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    staff.add_argument("--postgres-url", help="default $POSTGRES_URL or the embedded one")
    staff.set_defaults(func=cmd_staff)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise ValueError("the two passwords differ")
    return first


def _postgres_url(args: argparse.Namespace, offset: int) -> str:
    if args.postgres_url:
        return str(args.postgres_url)
    if os.environ.get("POSTGRES_URL"):
        return os.environ["POSTGRES_URL"]
    from hotelctl.embedded import postgres_url
    from hotelctl.mesh import load_mesh

    return postgres_url(load_mesh(offset=offset).postgres_port)


async def ensure_account(
    url: str, login: str, name: str, hotel: str, role: str, password: str, *, reset: bool = False
) -> str:
    """Creates (or with `reset`, re-passwords) an account; returns what was done."""
    from posada_console.accounts import Accounts
    from posada_console.migrate import migrate

    conn = await asyncpg.connect(url, timeout=10)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2, timeout=10)
    try:
        accounts = Accounts(pool)
        if reset:
            account = await accounts.reset_password(login, password)
            return f"password reset for {account.staff_id} ({account.display_name})"
        account = await accounts.add(login, name, hotel, role, password)
        return (
            f"added {account.staff_id} ({account.display_name}), "
            f"{account.role} of hotel {account.hotel_id}"
        )
    finally:
        await pool.close()


def cmd_staff(args: argparse.Namespace) -> int:
    from posada_console.accounts import AccountError, check_password, validate

    offset = int(
        args.port_offset
        if args.port_offset is not None
        else os.environ.get("POSADA_PORT_OFFSET", "0")
    )
    try:
        if args.action == "add":
            if not args.name or not args.hotel:
                raise AccountError("add needs --name and --hotel")
            validate(args.login, args.name, args.hotel, args.role)
        password = _password(args)
        check_password(password)
        message = asyncio.run(
            ensure_account(
                _postgres_url(args, offset),
                args.login,
                args.name or "",
                args.hotel or "",
                args.role,
                password,
                reset=args.action == "reset",
            )
        )
    except (AccountError, ValueError) as exc:
        print(f"hotelctl staff: {exc}", file=sys.stderr)
        return 2
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"hotelctl staff: cannot reach PostgreSQL ({type(exc).__name__})", file=sys.stderr)
        return 1
    print(message)
    return 0
