"""hotelctl: run, inspect and operate the Posada mesh.

hotelctl up [--observe]          start everything (what `make run` does; + Prometheus: `make observe`)
hotelctl canary <service>        one-machine canary rehearsal (see `hotelctl canary --help`)
hotelctl status                  health of every service through Envoy (and restart counts of a
                                 local `up`); exit 1 if any is not SERVING
hotelctl envoy render|check      write / verify deploy/envoy/*.yaml and the auth policy from deploy/mesh.yaml
hotelctl dlq list|show|replay|drop   operate the gateway's dead-letter stream
hotelctl credentials show|compose|k8s|token   dev mesh credentials (masked), compose env
                                 file, k8s Secrets, a service token for grpcurl
hotelctl staff add|reset LOGIN   staff accounts of the console
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _offset(args: argparse.Namespace) -> int:
    return int(
        args.port_offset
        if args.port_offset is not None
        else os.environ.get("POSADA_PORT_OFFSET", "0")
    )


def cmd_up(args: argparse.Namespace) -> int:
    from hotelctl.runner import up

    run_dir = os.environ.get("POSADA_RUN_DIR")
    observe = args.observe or os.environ.get("POSADA_OBSERVE", "") == "1"
    return up(offset=_offset(args), run_dir=Path(run_dir) if run_dir else None, observe=observe)


def _local_processes(offset: int) -> dict[str, dict]:  # type: ignore[type-arg]
    """What the supervisor of a local `hotelctl up` on this offset wrote (empty if none runs)."""
    from hotelctl.mesh import REPO_ROOT

    run_dir = Path(os.environ.get("POSADA_RUN_DIR") or REPO_ROOT / ".run")
    try:
        state = json.loads((run_dir / "state.json").read_text())
    except (OSError, ValueError):
        return {}
    if state.get("offset") != offset:
        return {}
    return dict(state.get("processes") or {})


def cmd_status(args: argparse.Namespace) -> int:
    from hotelctl.health import check_all
    from hotelctl.mesh import load_mesh

    offset = _offset(args)
    mesh = load_mesh(offset=offset)
    results = asyncio.run(check_all(mesh, timeout=args.timeout, address=args.address))
    processes = {} if args.address else _local_processes(offset)
    if args.json:
        print(
            json.dumps(
                [
                    {**r.__dict__, "restarts": processes.get(r.service, {}).get("restarts")}
                    for r in results
                ]
            )
        )
    else:
        table = Table(
            title=f"Posada health through Envoy ({args.address or f'127.0.0.1:{mesh.mesh_port}'})"
        )
        table.add_column("service")
        table.add_column("gRPC service")
        table.add_column("status")
        table.add_column("restarts", justify="right")
        for r in results:
            colour = "green" if r.serving else "red"
            restarts = processes.get(r.service, {}).get("restarts")
            table.add_row(
                r.service,
                r.grpc_service,
                f"[{colour}]{r.status}[/{colour}] {r.detail}",
                "" if restarts is None else str(restarts),
            )
        for name, info in processes.items():
            if name not in mesh.services:
                table.add_row(
                    name,
                    "",
                    "running" if info.get("running") else "restarting",
                    str(info.get("restarts", 0)),
                )
        Console().print(table)
    return 0 if all(r.serving for r in results) else 1


def cmd_envoy(args: argparse.Namespace) -> int:
    from hotelctl.authz import policy_is_fresh, write_policy
    from hotelctl.envoy_config import OUT_DIR, VARIANTS, render_text, write_all
    from hotelctl.mesh import load_mesh

    if args.action == "render":
        for path in [*write_all(), write_policy()]:
            print(f"wrote {path}")
        return 0
    if not policy_is_fresh():
        print("stale authorisation policy (auth_policy.json); run `make envoy`", file=sys.stderr)
        return 1
    mesh = load_mesh()
    stale = [
        v for v in VARIANTS if (OUT_DIR / f"envoy.{v}.yaml").read_text() != render_text(mesh, v)
    ]
    if stale:
        print(f"stale Envoy configs: {', '.join(stale)}; run `make envoy`", file=sys.stderr)
        return 1
    print("Envoy configs are fresh")
    return 0


def cmd_credentials(args: argparse.Namespace) -> int:
    from posada_common.auth_keys import generate_credentials

    from hotelctl.credentials import (
        compose_env,
        dev_credentials,
        k8s_secrets,
        mask,
        write_private,
    )
    from hotelctl.mesh import REPO_ROOT, load_mesh

    run_dir = Path(os.environ.get("POSADA_RUN_DIR") or REPO_ROOT / ".run")
    services = list(load_mesh().services)
    if args.action == "k8s":
        # --fresh: new keys that exist only in the printed Secrets (production); otherwise the
        # local development ones, so a dev cluster and `make run` agree.
        creds = generate_credentials() if args.fresh else dev_credentials(run_dir, os.environ)
        callers = services + [c for c in ("console",) if c not in services]
        print(k8s_secrets(creds, callers, args.namespace), end="")
        return 0
    creds = dev_credentials(run_dir, os.environ)
    if args.action == "token":
        # A 5-minute service token for grpcurl: -H "authorization: Bearer $(hotelctl ...)".
        from posada_common.auth import mint_service_token

        if not args.to:
            print("hotelctl credentials token needs --to <grpc service>", file=sys.stderr)
            return 2
        print(mint_service_token(args.to, identity=args.as_, credentials=creds))
        return 0
    if args.action == "compose":
        path = write_private(
            run_dir / "credentials" / "compose.env", compose_env(creds, [*services, "console"])
        )
        print(f"wrote {path} (0600); use: docker compose --env-file {path} up")
        return 0
    for name in sorted(creds.private_keys):
        key = creds.env_for(name)["MESH_PRIVATE_KEY"]
        print(f"{name:14} private key {mask(key)}")
    print(f"credentials folder: {run_dir / 'credentials'}")
    return 0


def cmd_canary(args: argparse.Namespace) -> int:
    from hotelctl.canary import run_canary

    return run_canary(args, _offset(args))


def cmd_dlq(args: argparse.Namespace) -> int:
    from hotelctl.dlq import run_dlq

    return asyncio.run(run_dlq(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotelctl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--port-offset",
        type=int,
        default=None,
        help="shift every port (default $POSADA_PORT_OFFSET or 0)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the whole mesh")
    up.add_argument(
        "--observe",
        action="store_true",
        help="also run a local Prometheus with the project's rules (default $POSADA_OBSERVE=1)",
    )
    up.set_defaults(func=cmd_up)
    status = sub.add_parser("status", help="health of every service through Envoy")
    status.add_argument("--address", help="Envoy mesh address (default 127.0.0.1:9000+offset)")
    status.add_argument("--timeout", type=float, default=2.0)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    envoy = sub.add_parser("envoy", help="Envoy configs from deploy/mesh.yaml")
    envoy.add_argument("action", choices=["render", "check"])
    envoy.set_defaults(func=cmd_envoy)
    creds = sub.add_parser("credentials", help="development mesh credentials (shown masked)")
    creds.add_argument("action", choices=["show", "compose", "k8s", "token"])
    creds.add_argument("--as", dest="as_", default="hotelctl", help="token: caller identity")
    creds.add_argument("--to", help="token: gRPC service, e.g. hotel.nlp.v1.NlpService")
    creds.add_argument("--namespace", default="posada")
    creds.add_argument("--fresh", action="store_true", help="k8s: new keys, stored nowhere")
    creds.set_defaults(func=cmd_credentials)
    canary = sub.add_parser(
        "canary",
        help="rehearse a canary release on the local mesh (needs `hotelctl up --observe`)",
        description="Start a second instance of SERVICE, move Envoy's runtime weights through "
        "deploy/mesh.yaml's canary steps, judge it with the AnalysisTemplate's queries against "
        "the local Prometheus, then promote or roll back. Exit 0 promoted, 1 rolled back "
        "(failed analysis), 2 rolled back (inconclusive: too little traffic), 3 could not start.",
    )
    canary.add_argument("service")
    canary.add_argument(
        "--inject-fault", type=float, default=0.0, help="drill: share of RPCs failing (0-1)"
    )
    canary.add_argument("--inject-latency", help="drill: delay added to every RPC, e.g. 2s")
    canary.add_argument("--step", help="override every step's pause (e.g. 20s, for drills)")
    canary.add_argument("--interval", help="override the measurement interval (e.g. 3s)")
    canary.add_argument("--window", help="override the queries' rate window (e.g. 15s)")
    canary.add_argument("--min-requests", type=int, help="override the minimum request count")
    canary.add_argument("--report", help="write the steps and measurements as JSON here")
    canary.set_defaults(func=cmd_canary)
    dlq = sub.add_parser("dlq", help="gateway dead letters")
    dlq.add_argument("action", choices=["list", "show", "replay", "drop"])
    dlq.add_argument("id", nargs="?", help="dead letter id (show/replay/drop)")
    dlq.add_argument("--address", help="Envoy mesh address (default 127.0.0.1:9000+offset)")
    dlq.add_argument(
        "--port-offset",
        type=int,
        default=argparse.SUPPRESS,
        help="shift every port (also accepted before the command)",
    )
    dlq.add_argument("--limit", type=int, default=50)
    dlq.add_argument("--json", action="store_true")
    dlq.set_defaults(func=cmd_dlq)
    from hotelctl import staff

    staff.add_subcommand(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    raise SystemExit(args.func(args))
