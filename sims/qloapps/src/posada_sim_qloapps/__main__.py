"""`python -m posada_sim_qloapps [--host 127.0.0.1 --port 8095 --db PATH --api-key KEY]`."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from aiohttp import web

from .app import create_app
from .seed import DEV_API_KEY


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="posada_sim_qloapps", description="QloApps webservice stand-in"
    )
    p.add_argument("--host", default=os.environ.get("QLOAPPS_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("QLOAPPS_PORT", "8095")))
    p.add_argument("--db", default=os.environ.get("QLOAPPS_DB", ".run/qloapps.sqlite3"))
    p.add_argument("--api-key", default=os.environ.get("PMS_API_KEY") or None)
    p.add_argument(
        "--race-window-ms",
        type=int,
        default=int(os.environ.get("QLOAPPS_RACE_WINDOW_MS", "25")),
        help="delay between availability check and insert on POST bookings (0 = atomic)",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    key = args.api_key
    if not key:
        key = DEV_API_KEY
        print(f"[qloapps stand-in] PMS_API_KEY not set; using the dev key {key}", flush=True)
    elif len(key) != 32:
        print(
            "[qloapps stand-in] warning: real QloApps keys are 32 characters; accepting this one anyway",
            file=sys.stderr,
            flush=True,
        )
    app = create_app(args.db, key, race_window_ms=args.race_window_ms)
    print(f"[qloapps stand-in] http://{args.host}:{args.port}/api/  db={args.db}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
