"""Regenerate the Python contracts (messages, stubs, type stubs) from `protos/`.

Run as `make proto`. `--check` regenerates into a temporary folder and fails when the
committed code differs, so CI catches a proto edited without regenerating.
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "libs" / "contracts" / "src"


def generate(out: Path) -> None:
    protos = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *protos,
    ]
    subprocess.run(cmd, check=True)
    for folder in [p for p in out.joinpath("hotel").rglob("*") if p.is_dir()] + [out / "hotel"]:
        init = folder / "__init__.py"
        if not init.exists():
            init.write_text("")


def generated_files(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.joinpath("hotel").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if committed code is stale")
    args = parser.parse_args()
    if not args.check:
        OUT.mkdir(parents=True, exist_ok=True)
        generate(OUT)
        print(f"generated {len(generated_files(OUT))} files under {OUT.relative_to(ROOT)}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        want, have = generated_files(fresh), generated_files(OUT)
        stale = sorted(want ^ have)
        stale += sorted(
            f for f in want & have if not filecmp.cmp(fresh / f, OUT / f, shallow=False)
        )
        if stale:
            print("generated contracts are stale; run `make proto`:", *stale, sep="\n  ")
            return 1
    print("generated contracts are fresh")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
