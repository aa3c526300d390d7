"""The audio service's behaviour, independent of gRPC (the servicer and the CLI both use it).

Errors are domain exceptions (`AudioInputError`, `stt.NotReady`, `stt.Overloaded`,
`tts.UnknownVoiceError`, `tts.TtsError`); `servicer.py` maps them to gRPC status codes.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from faster_whisper.tokenizer import _LANGUAGE_CODES

from . import metrics
from .codec import MIME_TYPES, AudioInputError, OutputFormat, decode_audio, encode_audio
from .model_assets import resolve_model_dir
from .settings import AudioSettings
from .stt import NotReady, Overloaded, SttOptions, Transcriber, TranscriptionResult
from .tts import EspeakEngine, TtsEngine, VoiceCatalog

WHISPER_LANGUAGES = frozenset(_LANGUAGE_CODES)


@dataclass(frozen=True)
class SynthesisResult:
    audio: bytes
    mime_type: str
    duration_seconds: float
    voice: str
    engine: str


def normalise_language_hint(hint: str) -> str | None:
    """'es-MX' -> 'es'; '' -> None; an unknown code -> AudioInputError on config.language_hint."""
    code = (hint or "").strip().lower().replace("_", "-").split("-")[0]
    if not code:
        return None
    if code not in WHISPER_LANGUAGES:
        raise AudioInputError(
            f"language_hint {hint!r} is not a language code Whisper knows (e.g. es, en, pt)",
            reason="LANGUAGE_UNSUPPORTED",
            field="config.language_hint",
        )
    return code


class AudioEngine:
    def __init__(
        self,
        settings: AudioSettings,
        *,
        tts_engines: list[TtsEngine] | None = None,
        transcriber: Transcriber | None = None,
    ):
        self.settings = settings
        self._transcriber = transcriber
        self.voices = VoiceCatalog(
            tts_engines or [EspeakEngine(settings.espeak_binary)],
            default_voice=settings.tts_default_voice,
        )
        self._tts_slots = asyncio.Semaphore(settings.tts_max_concurrent)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            s = self.settings
            self._transcriber = Transcriber(
                resolve_model_dir(s.whisper_model_dir),
                options=SttOptions(
                    compute_type=s.whisper_compute_type,
                    cpu_threads=s.whisper_cpu_threads,
                    beam_size=s.whisper_beam_size,
                    fallback_beam_size=s.whisper_fallback_beam_size,
                    vad=s.whisper_vad,
                    allowed_languages=s.languages,
                    use_vocabulary_prompt=s.whisper_vocabulary_prompt,
                ),
                max_concurrent=s.transcribe_max_concurrent,
                max_queue=s.transcribe_max_queue,
                queue_timeout_seconds=s.transcribe_queue_timeout_seconds,
            )
        return self._transcriber

    @property
    def ready(self) -> bool:
        return self._transcriber is not None and self._transcriber.ready

    async def load(self) -> None:
        """Assemble (if needed) and load the speech model; the slow part of warm-up."""
        transcriber = await asyncio.to_thread(lambda: self.transcriber)
        await transcriber.aload()
        metrics.MODEL_LOADED.set(1)

    def close(self) -> None:
        if self._transcriber is not None:
            self._transcriber.close()
        metrics.MODEL_LOADED.set(0)

    # -- speech to text --------------------------------------------------------------------

    def check_size(self, size: int) -> None:
        if size > self.settings.audio_max_bytes:
            metrics.REJECTED.labels("AUDIO_TOO_LARGE").inc()
            raise AudioInputError(
                f"audio is larger than the limit of {self.settings.audio_max_bytes} bytes",
                reason="AUDIO_TOO_LARGE",
            )

    async def transcribe(
        self,
        data: bytes,
        *,
        language_hint: str = "",
        timeout: float | None = None,
    ) -> TranscriptionResult:
        """Decode any supported audio and transcribe it. `timeout` bounds the wait for a slot."""
        language = normalise_language_hint(language_hint)
        self.check_size(len(data))
        try:
            decoded = await asyncio.to_thread(
                decode_audio,
                data,
                max_bytes=self.settings.audio_max_bytes,
                max_duration_seconds=self.settings.audio_max_duration_seconds,
            )
        except AudioInputError as exc:
            metrics.REJECTED.labels(exc.reason).inc()
            metrics.TRANSCRIPTIONS.labels("", "rejected").inc()
            raise
        if not self.ready:
            raise NotReady("speech model is still loading; try again shortly")
        metrics.INPUT_SECONDS.observe(decoded.duration_seconds)
        transcriber = self.transcriber
        metrics.TRANSCRIPTIONS_WAITING.set(transcriber.waiting + 1)
        start = time.perf_counter()
        try:
            result = await transcriber.transcribe(
                decoded.samples, language=language, timeout=timeout
            )
        except Overloaded:
            metrics.REJECTED.labels("OVERLOADED").inc()
            raise
        except Exception:
            metrics.TRANSCRIPTIONS.labels("", "error").inc()
            raise
        finally:
            metrics.TRANSCRIPTIONS_WAITING.set(transcriber.waiting)
        elapsed = time.perf_counter() - start
        metrics.TRANSCRIBE_SECONDS.observe(elapsed)
        if decoded.duration_seconds > 0:
            metrics.REAL_TIME_FACTOR.observe(elapsed / decoded.duration_seconds)
        metrics.TRANSCRIPTIONS.labels(result.language, "ok" if result.text else "empty").inc()
        return result

    # -- text to speech --------------------------------------------------------------------

    def validate_synthesis(self, text: str, speed: float) -> dict[str, str]:
        problems: dict[str, str] = {}
        if not text.strip():
            problems["text"] = "must not be empty"
        elif len(text) > self.settings.tts_max_chars:
            problems["text"] = f"must be at most {self.settings.tts_max_chars} characters"
        if speed != 0 and not 0.5 <= speed <= 2.0:
            problems["speed"] = "must be 0 (default) or between 0.5 and 2.0"
        return problems

    async def synthesize(
        self,
        text: str,
        *,
        voice: str = "",
        fmt: OutputFormat = OutputFormat.OGG_OPUS,
        speed: float = 0.0,
    ) -> SynthesisResult:
        """Text to an encoded note. Caller validates with `validate_synthesis` first."""
        engine, info = self.voices.resolve(voice)
        start = time.perf_counter()
        async with self._tts_slots:
            speech = await engine.synthesize(text.strip(), info.id, speed=speed or 1.0)
            audio = await asyncio.to_thread(
                encode_audio,
                speech.samples,
                speech.sample_rate,
                fmt,
                opus_bitrate=self.settings.opus_bitrate,
            )
        metrics.SYNTHESIS_SECONDS.labels(engine.name, fmt.value).observe(
            time.perf_counter() - start
        )
        return SynthesisResult(
            audio=audio,
            mime_type=MIME_TYPES[fmt],
            duration_seconds=speech.duration_seconds,
            voice=info.id,
            engine=engine.name,
        )
