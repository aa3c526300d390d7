"""gRPC `hotel.audio.v1.AudioService`: maps requests to `AudioEngine` and errors to statuses.

Status codes:
* INVALID_ARGUMENT: empty, corrupt, oversize or too-long audio; bad language hint; empty or
  too-long text; unknown voice; bad speed or format; a stream that breaks its protocol.
  Each carries a BadRequest field violation naming the field.
* UNAVAILABLE: the model is still loading (health is NOT_SERVING meanwhile) or the TTS engine
  failed — the conversation service degrades to text.
* RESOURCE_EXHAUSTED: every transcription slot busy and the wait queue full (or no slot freed
  within the queue timeout / the call's deadline).
"""

from __future__ import annotations

import grpc
from hotel.audio.v1 import audio_service_pb2 as pb
from hotel.audio.v1 import audio_service_pb2_grpc as pb_grpc
from posada_common.errors import InvalidArgument, ResourceExhausted, Unavailable
from posada_common.logging import get_logger

from .codec import AudioInputError, OutputFormat
from .service import AudioEngine
from .stt import NotReady, Overloaded, TranscriptionResult
from .tts import TtsError, UnknownVoiceError

log = get_logger(__name__)

_FORMATS = {
    pb.AUDIO_FORMAT_UNSPECIFIED: OutputFormat.OGG_OPUS,
    pb.AUDIO_FORMAT_OGG_OPUS: OutputFormat.OGG_OPUS,
    pb.AUDIO_FORMAT_WAV: OutputFormat.WAV,
    pb.AUDIO_FORMAT_MP3: OutputFormat.MP3,
}


def _invalid(exc: AudioInputError) -> InvalidArgument:
    return InvalidArgument(
        exc.message, field_violations={exc.field: exc.message}, reason=exc.reason
    )


def _to_proto(result: TranscriptionResult) -> pb.Transcription:
    return pb.Transcription(
        text=result.text,
        language=result.language,
        language_probability=result.language_probability,
        duration_seconds=result.duration_seconds,
        model=result.model,
        segments=[
            pb.Segment(
                start_seconds=s.start, end_seconds=s.end, text=s.text, confidence=s.confidence
            )
            for s in result.segments
        ],
    )


class AudioServicer(pb_grpc.AudioServiceServicer):
    def __init__(self, engine: AudioEngine):
        self.engine = engine

    async def _transcribe(
        self, data: bytes, config: pb.TranscribeConfig, context: grpc.aio.ServicerContext
    ) -> pb.Transcription:
        try:
            result = await self.engine.transcribe(
                data, language_hint=config.language_hint, timeout=context.time_remaining()
            )
        except AudioInputError as exc:
            log.info(
                "transcribe_rejected",
                reason=exc.reason,
                size=len(data),
                declared_mime=config.mime_type[:60],
            )
            raise _invalid(exc) from exc
        except NotReady as exc:
            raise Unavailable(str(exc), reason="MODEL_LOADING") from exc
        except Overloaded as exc:
            raise ResourceExhausted(str(exc), reason="TRANSCRIPTION_SLOTS_BUSY") from exc
        # Never log the text: it is guest personal data.
        log.info(
            "transcribed",
            size=len(data),
            duration_seconds=round(result.duration_seconds, 2),
            language=result.language,
            chars=len(result.text),
            segments=len(result.segments),
            decode_seconds=round(result.timings.get("decode", 0.0), 3),
        )
        return _to_proto(result)

    async def Transcribe(
        self, request: pb.TranscribeRequest, context: grpc.aio.ServicerContext
    ) -> pb.TranscribeResponse:
        transcription = await self._transcribe(request.audio, request.config, context)
        return pb.TranscribeResponse(transcription=transcription)

    async def TranscribeStream(self, request_iterator, context: grpc.aio.ServicerContext):
        config: pb.TranscribeConfig | None = None
        buf = bytearray()
        first = True
        async for message in request_iterator:
            kind = message.WhichOneof("payload")
            if kind == "config":
                if not first:
                    raise InvalidArgument(
                        "config must be the first message of the stream, and only the first",
                        field_violations={"config": "only allowed as the first message"},
                        reason="STREAM_PROTOCOL",
                    )
                config = message.config
            elif kind == "chunk":
                buf += message.chunk
                if len(buf) > self.engine.settings.audio_max_bytes:
                    # Stop reading now: do not buffer the rest of an oversize upload.
                    try:
                        self.engine.check_size(len(buf))
                    except AudioInputError as exc:
                        raise _invalid(exc) from exc
            first = False
        # A stream without a config message uses the defaults (detect language, sniff format).
        transcription = await self._transcribe(bytes(buf), config or pb.TranscribeConfig(), context)
        return pb.TranscribeStreamResponse(transcription=transcription)

    async def Synthesize(
        self, request: pb.SynthesizeRequest, context: grpc.aio.ServicerContext
    ) -> pb.SynthesizeResponse:
        problems = self.engine.validate_synthesis(request.text, request.speed)
        fmt = _FORMATS.get(request.format)
        if fmt is None:
            problems["format"] = "unknown audio format"
        try:
            _engine, voice = self.engine.voices.resolve(request.voice)
        except UnknownVoiceError as exc:
            problems["voice"] = str(exc)
        if problems:
            raise InvalidArgument(
                "; ".join(f"{k} {v}" if k != "voice" else v for k, v in problems.items()),
                field_violations=problems,
            )
        assert fmt is not None
        try:
            result = await self.engine.synthesize(
                request.text, voice=voice.id, fmt=fmt, speed=request.speed
            )
        except TtsError as exc:
            log.error("tts_failed", voice=voice.id, error=str(exc))
            raise Unavailable("text-to-speech engine failed", reason="TTS_FAILED") from exc
        log.info(
            "synthesized",
            voice=result.voice,
            format=fmt.value,
            chars=len(request.text),
            bytes=len(result.audio),
            duration_seconds=round(result.duration_seconds, 2),
        )
        return pb.SynthesizeResponse(
            audio=result.audio,
            mime_type=result.mime_type,
            duration_seconds=result.duration_seconds,
            voice=result.voice,
        )

    async def ListVoices(
        self, request: pb.ListVoicesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListVoicesResponse:
        return pb.ListVoicesResponse(
            voices=[
                pb.Voice(id=v.id, language=v.language, engine=v.engine, description=v.description)
                for v in self.engine.voices.list()
            ]
        )
