"""Helpers for the audio tests: settings, engines sharing one model, a real in-process server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from faster_whisper import WhisperModel
from hotel.audio.v1 import audio_service_pb2_grpc as pb_grpc
from posada_audio.main import SERVICE_NAME, server_options
from posada_audio.model_assets import prepare_model
from posada_audio.service import AudioEngine
from posada_audio.servicer import AudioServicer
from posada_audio.settings import AudioSettings
from posada_audio.stt import SttOptions, Transcriber
from posada_common.server import ServiceRuntime, running
from posada_common.testing import trusted_channel

MAX_WORKERS = 2  # the shared model can run two transcriptions at once


def make_settings(**overrides: object) -> AudioSettings:
    base: dict[str, object] = {
        "grpc_host": "127.0.0.1",
        "grpc_port": 0,
        "metrics_port": 0,
        "environment": "test",
        "log_format": "console",
    }
    base.update(overrides)
    return AudioSettings(**base)  # type: ignore[arg-type]


def make_engine(settings: AudioSettings, model: WhisperModel) -> AudioEngine:
    transcriber = Transcriber(
        prepare_model().path,
        options=SttOptions(
            beam_size=settings.whisper_beam_size,
            fallback_beam_size=settings.whisper_fallback_beam_size,
            cpu_threads=2,
        ),
        max_concurrent=settings.transcribe_max_concurrent,
        max_queue=settings.transcribe_max_queue,
        queue_timeout_seconds=settings.transcribe_queue_timeout_seconds,
        model=model,
    )
    return AudioEngine(settings, transcriber=transcriber)


@contextlib.asynccontextmanager
async def audio_server(
    settings: AudioSettings,
    engine: AudioEngine,
    *,
    warmup: Callable[[ServiceRuntime], Awaitable[None]] | None = None,
    wait_ready: bool = True,
) -> AsyncIterator[tuple[ServiceRuntime, pb_grpc.AudioServiceStub, grpc.aio.Channel]]:
    """A real grpc.aio server (common skeleton: interceptors, health) on a free port."""

    async def register(rt: ServiceRuntime) -> None:
        pb_grpc.add_AudioServiceServicer_to_server(AudioServicer(engine), rt.server)

    async def default_warmup(rt: ServiceRuntime) -> None:
        await engine.load()

    async with running(
        settings,
        service_names=[SERVICE_NAME],
        register=register,
        warmup=warmup or default_warmup,
        server_options=server_options(settings),
        wait_ready=wait_ready,
    ) as rt:
        channel = trusted_channel(
            f"127.0.0.1:{rt.port}",
            options=[("grpc.max_receive_message_length", 32 * 1024 * 1024)],
        )
        try:
            yield rt, pb_grpc.AudioServiceStub(channel), channel
        finally:
            await channel.close()
