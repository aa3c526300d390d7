"""`python -m posada_sim_gmail [--host 127.0.0.1 --port 8093]`"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from aiohttp import web

from .app import build_app
from .config import SimConfig


async def _serve(host: str, port: int) -> None:
    config = SimConfig.from_env(announce=True)
    app = build_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(
        f"gmail-sim: Gmail API on http://{host}:{port}/gmail/v1/users/me, mailbox "
        f"{config.address}, mail view http://{host}:{port}/mail/, pushes -> {config.push_url}",
        file=sys.stderr,
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="posada_sim_gmail", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8093)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
