"""A voice note through the REAL audio service (Whisper STT + offline TTS), when installed."""

from __future__ import annotations

import contextlib

import grpc
import pytest
from conv_chat import Guest
from hotel.audio.v1 import audio_service_pb2 as audio_pb2
from hotel.audio.v1 import audio_service_pb2_grpc as audio_grpc
from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from posada_common.testing import trusted_channel


@contextlib.asynccontextmanager
async def real_audio():  # type: ignore[no-untyped-def]
    try:
        from posada_audio.service import AudioEngine
        from posada_audio.servicer import AudioServicer
        from posada_audio.settings import AudioSettings
    except ImportError:
        pytest.skip("posada_audio is not installed")
    engine = AudioEngine(AudioSettings())
    try:
        await engine.load()
    except Exception as exc:  # no bundled model in this checkout
        pytest.skip(f"audio model not available: {exc}")
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 20 << 20)])
    audio_grpc.add_AudioServiceServicer_to_server(AudioServicer(engine), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = trusted_channel(f"127.0.0.1:{port}")
    try:
        yield channel
    finally:
        await channel.close()
        await server.stop(0)
        closed = engine.close()
        if closed is not None:
            await closed


@pytest.mark.slow
async def test_spanish_voice_note_is_transcribed_and_answered_with_a_voice_note(conversation):  # type: ignore[no-untyped-def]
    async with real_audio() as audio_channel:
        # The guest's voice note: synthesized by the real TTS, as WhatsApp would deliver it.
        note = await audio_grpc.AudioServiceStub(audio_channel).Synthesize(
            audio_pb2.SynthesizeRequest(
                text="Quiero reservar una habitación.",
                voice="es",
                format=audio_pb2.AUDIO_FORMAT_OGG_OPUS,
            ),
            timeout=60,
        )
        async with conversation(
            channels={"audio": audio_channel}, audio_transcribe_deadline_seconds=60
        ) as svc:
            g = Guest(svc.stub)
            media = message_pb2.Media(
                media_id="m1", mime_type=note.mime_type, data=note.audio, voice=True
            )
            r = await g.send(g.message(kind=message_pb2.MESSAGE_KIND_AUDIO, media=media))
            assert r.state == conv_pb2.CONVERSATION_STATE_ACTIVE and r.language == "es"
            voice = [x.audio for x in r.replies if x.WhichOneof("content") == "audio"]
            assert voice and voice[0].data[:4] == b"OggS" and "fechas" in voice[0].transcript
            history = await g.history()
            inbound = [m for m in history.messages if m.direction == conv_pb2.DIRECTION_INBOUND]
            assert "reservar" in inbound[0].text.lower()
            assert inbound[0].kind == message_pb2.MESSAGE_KIND_AUDIO
