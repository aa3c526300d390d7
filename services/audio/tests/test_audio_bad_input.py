"""Bad input gets INVALID_ARGUMENT with a clear message and a field violation, never a crash."""

from __future__ import annotations

import io
import wave

import grpc
import numpy as np
import pytest
from hotel.audio.v1 import audio_service_pb2 as pb
from posada_common.errors import field_violations

MiB = 1024 * 1024


def wav_tone(seconds: float, rate: int = 8000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.2 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


async def expect_invalid(call, field: str, words: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    err = info.value
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
    assert words in err.details().lower()
    assert field in field_violations(err)
    return err


async def test_empty_audio_is_invalid_argument(stub):
    await expect_invalid(
        stub.Transcribe(pb.TranscribeRequest(audio=b""), timeout=10), "audio", "empty"
    )


async def test_corrupt_audio_is_invalid_argument(stub):
    junk = np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    await expect_invalid(
        stub.Transcribe(pb.TranscribeRequest(audio=junk), timeout=10),
        "audio",
        "could not be decoded",
    )


async def test_truncated_ogg_header_is_invalid_argument(stub):
    fake = b"OggS" + b"\x00" * 400
    await expect_invalid(
        stub.Transcribe(
            pb.TranscribeRequest(
                audio=fake, config=pb.TranscribeConfig(mime_type="audio/ogg; codecs=opus")
            ),
            timeout=10,
        ),
        "audio",
        "decoded",
    )


async def test_oversize_audio_is_invalid_argument_not_a_transport_error(stub):
    # 16 MiB + 1 byte fits in the raised gRPC message limit, so the service itself refuses it.
    big = b"\x00" * (16 * MiB + 1)
    await expect_invalid(
        stub.Transcribe(pb.TranscribeRequest(audio=big), timeout=30), "audio", "limit"
    )


async def test_audio_longer_than_five_minutes_is_invalid_argument(stub):
    long_note = wav_tone(301)  # 4.8 MB at 8 kHz: small file, too long
    await expect_invalid(
        stub.Transcribe(pb.TranscribeRequest(audio=long_note), timeout=30), "audio", "longer than"
    )


async def test_unknown_language_hint_is_invalid_argument(stub):
    await expect_invalid(
        stub.Transcribe(
            pb.TranscribeRequest(audio=wav_tone(1), config=pb.TranscribeConfig(language_hint="xx")),
            timeout=10,
        ),
        "config.language_hint",
        "language",
    )


async def test_service_keeps_serving_after_bad_input(stub):
    for bad in (b"", b"RIFF\x00\x00\x00\x00WAVEfmt ", b"ID3" + b"\xff" * 1000):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Transcribe(pb.TranscribeRequest(audio=bad), timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    voices = await stub.ListVoices(pb.ListVoicesRequest(), timeout=10)
    assert voices.voices


async def test_stream_over_the_size_limit_is_invalid_argument(stub):
    chunk = b"\x00" * MiB

    async def messages():
        yield pb.TranscribeStreamRequest(config=pb.TranscribeConfig(language_hint="es"))
        for _ in range(17):
            yield pb.TranscribeStreamRequest(chunk=chunk)

    await expect_invalid(stub.TranscribeStream(messages(), timeout=30), "audio", "limit")


async def test_stream_with_a_late_config_is_invalid_argument(stub):
    async def messages():
        yield pb.TranscribeStreamRequest(chunk=wav_tone(1))
        yield pb.TranscribeStreamRequest(config=pb.TranscribeConfig(language_hint="es"))

    await expect_invalid(stub.TranscribeStream(messages(), timeout=10), "config", "first message")


async def test_empty_stream_is_invalid_argument(stub):
    async def messages():
        yield pb.TranscribeStreamRequest(config=pb.TranscribeConfig(language_hint="es"))

    await expect_invalid(stub.TranscribeStream(messages(), timeout=10), "audio", "empty")


@pytest.mark.parametrize(
    ("request_kwargs", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "Hola", "voice": "klingon"}, "voice"),
        ({"text": "Hola", "speed": 3.0}, "speed"),
        ({"text": "Hola", "format": 42}, "format"),
    ],
)
async def test_bad_synthesis_request_is_invalid_argument(stub, request_kwargs, field):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Synthesize(pb.SynthesizeRequest(**request_kwargs), timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(info.value)
