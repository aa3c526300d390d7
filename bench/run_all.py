"""Run every benchmark against one fresh mesh (`make bench`); results land in bench/results/.

The mesh starts on shifted ports in a temporary folder (like the e2e tests), so a developer's
`make run` is left alone. Each benchmark bounds its own request count and time and talks to
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", help="comma-separated subset: nlp,pms,gateway,email,audio,auth,load"
    )
    parser.add_argument("--offset", type=int, default=12000)  # ports outside the ephemeral range
    args = parser.parse_args()
    wanted = set((args.only or "nlp,pms,gateway,email,audio,auth,load").split(","))

    from hotelctl.runner import start_mesh, write_state

    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="posada-bench-") as tmp:
        print(f"» starting a mesh on port offset {args.offset} for the benchmarks", flush=True)
        run = start_mesh(run_dir=Path(tmp), offset=args.offset)
        write_state(run)  # pids for the load benchmark's CPU per service
        mesh = run.mesh
        addr = f"127.0.0.1:{mesh.mesh_port}"
        public = f"http://127.0.0.1:{mesh.public_port}"
        # POSADA_RUN_DIR: the benches sign their gRPC calls with this mesh's credentials.
        env = {**os.environ, **run.env, "POSADA_RUN_DIR": str(Path(tmp))}
        plan = [
            ("nlp", [py, "bench/nlp/run.py", "--mesh", addr]),
            ("pms", [py, "bench/pms/run.py", "--mesh", addr]),
            (
                "gateway",
                [
                    py,
                    "bench/gateway/run.py",
                    "--url",
                    f"{public}/webhooks/whatsapp",
                    "--sim-url",
                    f"{public}/sim",
                ],
            ),
            (
                "email",
                [
                    py,
                    "bench/email/run.py",
                    "--gmail-url",
                    f"http://127.0.0.1:{mesh.simulators['gmail']['http_port']}",
                ],
            ),
            ("audio", [py, "bench/audio/run.py"]),
            ("auth", [py, "bench/auth/run.py"]),
            # Last: open-loop load up to the knee (bounded, < 5 minutes).
            ("load", [py, "bench/load/run.py", "--public-url", public, "--run-dir", tmp]),
        ]
        failures = []
        try:
            for i, (name, argv) in enumerate([p for p in plan if p[0] in wanted], 1):
                print(f"» [{i}/{len(wanted)}] {name}: {' '.join(argv[1:])}", flush=True)
                t0 = time.monotonic()
                result = subprocess.run(argv, cwd=ROOT, env=env, timeout=1800)
                print(
                    f"» {name} finished in {time.monotonic() - t0:.0f}s (exit {result.returncode})",
                    flush=True,
                )
                if result.returncode != 0:
                    failures.append(name)
        finally:
            run.stop()
    summary = {
        p.stem: json.loads(p.read_text())
        for p in sorted((ROOT / "bench" / "results").glob("*.json"))
    }
    print(f"» results: {', '.join(summary)} in bench/results/")
    if failures:
        print(f"» failed: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
