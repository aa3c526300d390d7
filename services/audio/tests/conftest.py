"""Fixtures: one Whisper model per test session, shared by real in-process gRPC servers."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from audio_testkit import MAX_WORKERS, audio_server, make_engine, make_settings
from faster_whisper import WhisperModel
from hotel.audio.v1 import audio_service_pb2_grpc as pb_grpc
from posada_audio.model_assets import prepare_model


@pytest.fixture(scope="session", autouse=True)
def _espeak_installed() -> None:
    """TTS tests need the Debian package; say so plainly instead of failing obscurely."""
    if shutil.which("espeak-ng") is None:
        pytest.fail(
            "espeak-ng is not installed: run `make system-deps` (apt-get install espeak-ng)"
        )


@pytest.fixture(scope="session")
def whisper_model() -> WhisperModel:
    """Loaded once for the whole session (about 1-2 s); every server below shares it."""
    path = prepare_model().path
    return WhisperModel(
        str(path),
        device="cpu",
        compute_type="int8",
        cpu_threads=2,
        num_workers=MAX_WORKERS,
        local_files_only=True,
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def audio_service(
    whisper_model: WhisperModel,
) -> AsyncIterator[tuple[int, pb_grpc.AudioServiceStub]]:
    """The service with default settings (16 MB, 5 min, 1 transcription at a time): (port, stub)."""
    settings = make_settings()
    async with audio_server(settings, make_engine(settings, whisper_model)) as (rt, s, _ch):
        yield rt.port, s


@pytest.fixture(scope="session")
def stub(audio_service: tuple[int, pb_grpc.AudioServiceStub]) -> pb_grpc.AudioServiceStub:
    return audio_service[1]
