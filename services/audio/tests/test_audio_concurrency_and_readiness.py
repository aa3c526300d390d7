"""The model is loaded once, health says NOT_SERVING until then, and transcriptions are bounded."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from audio_testkit import audio_server, make_engine, make_settings
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hotel.audio.v1 import audio_service_pb2 as pb
from posada_audio.main import SERVICE_NAME

pytestmark = pytest.mark.slow

NOTE_TEXT = "Hola, quiero reservar una habitación doble para este fin de semana."


async def _note(stub) -> bytes:
    resp = await stub.Synthesize(pb.SynthesizeRequest(text=NOTE_TEXT, voice="es"), timeout=30)
    return resp.audio


async def test_concurrent_transcriptions_never_exceed_the_bound(whisper_model):
    settings = make_settings(transcribe_max_concurrent=2, transcribe_max_queue=10)
    engine = make_engine(settings, whisper_model)
    async with audio_server(settings, engine) as (_rt, stub, _ch):
        note = await _note(stub)
        calls = [
            stub.Transcribe(
                pb.TranscribeRequest(audio=note, config=pb.TranscribeConfig(language_hint="es")),
                timeout=120,
            )
            for _ in range(5)
        ]
        results = await asyncio.gather(*calls)
    assert all(r.transcription.text for r in results)
    transcriber = engine.transcriber
    assert transcriber.peak_running == 2  # the bound was reached, and never exceeded
    assert transcriber.running == 0 and transcriber.waiting == 0


async def test_excess_requests_beyond_the_queue_get_resource_exhausted(whisper_model):
    settings = make_settings(transcribe_max_concurrent=1, transcribe_max_queue=1)
    engine = make_engine(settings, whisper_model)
    async with audio_server(settings, engine) as (_rt, stub, _ch):
        note = await _note(stub)
        calls = [
            stub.Transcribe(
                pb.TranscribeRequest(audio=note, config=pb.TranscribeConfig(language_hint="es")),
                timeout=120,
            )
            for _ in range(4)
        ]
        results = await asyncio.gather(*calls, return_exceptions=True)
    ok = [r for r in results if isinstance(r, pb.TranscribeResponse)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(ok) + len(refused) == 4
    assert ok and refused
    assert all(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED for e in refused)
    assert engine.transcriber.peak_running == 1


async def test_service_is_not_serving_and_unavailable_until_the_model_is_loaded(whisper_model):
    settings = make_settings()
    engine = make_engine(settings, whisper_model)
    release = asyncio.Event()

    async def slow_warmup(rt):
        await release.wait()
        await engine.load()

    async with audio_server(settings, engine, warmup=slow_warmup, wait_ready=False) as (
        rt,
        stub,
        ch,
    ):
        health = health_pb2_grpc.HealthStub(ch)
        check = health_pb2.HealthCheckRequest(service=SERVICE_NAME)
        status = (await health.Check(check, timeout=5)).status
        assert status == health_pb2.HealthCheckResponse.NOT_SERVING
        note = await _note(stub)  # synthesis does not need the speech model
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Transcribe(pb.TranscribeRequest(audio=note), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE

        release.set()
        await asyncio.wait_for(rt.ready.wait(), 60)
        status = (await health.Check(check, timeout=5)).status
        assert status == health_pb2.HealthCheckResponse.SERVING
        resp = await stub.Transcribe(
            pb.TranscribeRequest(audio=note, config=pb.TranscribeConfig(language_hint="es")),
            timeout=60,
        )
        assert "habitación" in resp.transcription.text.lower()


async def test_language_detection_reuses_the_first_encoder_pass(whisper_model):
    settings = make_settings()
    engine = make_engine(settings, whisper_model)
    await engine.load()
    spoken = await engine.synthesize(NOTE_TEXT, voice="es")
    detected = await engine.transcribe(spoken.audio)
    hinted = await engine.transcribe(spoken.audio, language_hint="es")
    assert detected.language == "es"
    assert detected.text == hinted.text  # same decoding, whichever way the language came
    assert detected.timings["encoder_reused"] >= 1
    engine.close()
