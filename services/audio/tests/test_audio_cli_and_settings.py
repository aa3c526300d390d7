"""The `hotel-audio` CLI speaks and transcribes; settings come from the environment."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from posada_audio.codec import probe
from posada_audio.settings import AudioSettings
from posada_audio.wer import word_error_rate
from posada_common.testing import auth_env

MiB = 1024 * 1024


async def run_cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "posada_audio.cli",
        *args,
        env={**os.environ, **auth_env("hotelctl")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.mark.slow
async def test_cli_says_a_voice_note_and_transcribes_it_through_the_service(
    audio_service, tmp_path
):
    port, _stub = audio_service
    note = tmp_path / "reply.ogg"
    text = "Hello, I would like to book a double room for this weekend."
    code, out, err = await run_cli("say", text, "-o", str(note), "--voice", "en")
    assert code == 0, err
    assert "audio/ogg" in out
    assert (probe(note.read_bytes())["codec"], probe(note.read_bytes())["channels"]) == ("opus", 1)

    code, out, err = await run_cli(
        "transcribe", str(note), "--language", "en", "--server", f"127.0.0.1:{port}"
    )
    assert code == 0, err
    assert word_error_rate(text, out.strip(), "en") <= 0.25


async def test_cli_rejects_unknown_output_extension_and_voice(tmp_path):
    code, _out, err = await run_cli("say", "hola", "-o", str(tmp_path / "x.flac"))
    assert code == 2 and "format" in err
    code, _out, err = await run_cli("say", "hola", "-o", str(tmp_path / "x.ogg"), "--voice", "xx")
    assert code == 2 and "unknown voice" in err


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WHISPER_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("AUDIO_MAX_DURATION_SECONDS", "120")
    monkeypatch.setenv("TRANSCRIBE_MAX_CONCURRENT", "2")
    s = AudioSettings()
    assert s.whisper_model_dir == tmp_path
    assert s.audio_max_duration_seconds == 120
    assert s.transcribe_max_concurrent == 2
    assert (s.grpc_port, s.metrics_port, s.service_name) == (50053, 9453, "audio")
    # gRPC message limit follows the audio limit, with room for the envelope.
    assert s.max_message_bytes == 17 * MiB


def test_empty_model_dir_means_the_bundled_model(monkeypatch):
    monkeypatch.setenv("WHISPER_MODEL_DIR", "")
    assert AudioSettings().whisper_model_dir is None


def test_message_limit_below_the_audio_limit_is_refused(monkeypatch):
    monkeypatch.setenv("MAX_MESSAGE_BYTES", str(4 * MiB))
    with pytest.raises(ValueError, match="MAX_MESSAGE_BYTES"):
        AudioSettings()
