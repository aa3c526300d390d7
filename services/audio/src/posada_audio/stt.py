"""Speech-to-text with faster-whisper (CTranslate2), int8 on CPU.

One `Transcriber` per process holds the model (loaded once, in the warmup hook) and a
bounded admission gate:

* at most ``max_concurrent`` transcriptions run at once (each one uses ``cpu_threads``
  CTranslate2 threads; on a 2-core machine 1 x 2 threads gives the lowest latency);
* up to ``max_queue`` more wait for a slot, each for at most ``queue_timeout_seconds``
  (or the call's deadline, whichever is shorter);
* anything beyond that is refused at once with `Overloaded` (→ RESOURCE_EXHAUSTED), so a
  burst of voice notes degrades into fast "try later" answers instead of a pile of calls
  that all miss their deadlines.

The blocking model calls run in a dedicated thread pool sized to ``max_concurrent`` so they
never block the event loop (CTranslate2 releases the GIL while it computes).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper.audio import pad_or_trim
from faster_whisper.vad import SpeechTimestampsMap, VadOptions, get_speech_timestamps

from .metrics import TRANSCRIPTIONS_RUNNING
from .vocabulary import SUPPORTED_LANGUAGES, prompt_for

SAMPLE_RATE = 16_000
COMPRESSION_RATIO_LIMIT = 2.4  # Whisper's own threshold for "this is a repetition loop"
LOW_LOGPROB = -1.0  # Whisper's own threshold for "this decode is unreliable"
MAX_UNTRANSCRIBED_SPEECH = 3.0  # seconds of VAD speech with no segment = skipped words


class Overloaded(RuntimeError):
    """No transcription slot became free in time."""


class NotReady(RuntimeError):
    """The model is not loaded yet."""


@dataclass(frozen=True)
class SttOptions:
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0 = cores / max_concurrent
    beam_size: int = 1
    fallback_beam_size: int = 5  # re-decode with this beam on loops/low confidence; 0 = never
    vad: bool = True
    vad_min_silence_ms: int = 500
    allowed_languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    use_vocabulary_prompt: bool = True
    temperatures: tuple[float, ...] = (0.0,)


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    confidence: float


@dataclass(frozen=True)
class TranscriptionResult:
    text: str
    language: str
    language_probability: float
    duration_seconds: float
    segments: list[Segment]
    model: str
    timings: dict[str, float] = field(default_factory=dict)


def default_cpu_threads(max_concurrent: int) -> int:
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    return max(1, cores // max(1, max_concurrent))


def restrict_language(
    probs: Iterable[tuple[str, float]], allowed: tuple[str, ...]
) -> tuple[str, float]:
    """Best language among `allowed`, with its probability renormalised over `allowed`.

    Whisper base sometimes hears robotic or accented Spanish as Galician, Catalan or Italian;
    guests of these hotels write es/en/pt, so the answer is restricted to those.
    """
    scores = {lang: p for lang, p in probs if lang in allowed}
    if not scores:
        return allowed[0], 0.0
    best = max(scores, key=lambda k: scores[k])
    total = sum(scores.values())
    return best, (scores[best] / total if total > 0 else 0.0)


def repeats_one_word(text: str) -> bool:
    """A short loop that zlib cannot see: "No, no, no, no, no, no." compresses badly (too short
    for the compression ratio to rise) yet is one word said over and over, a classic Whisper
    hallucination on short robotic clips. People repeat a word three times ("no, no, no"), not
    more, and not as most of what they say."""
    words = re.findall(r"\w+", text.lower())
    if len(words) < 4:
        return False
    most = max(words.count(w) for w in set(words))
    return most >= 4 and most / len(words) >= 0.6


def _needs_wider_beam(segments: list[Any], speech_seconds: float | None = None) -> bool:
    """Greedy output to distrust: a repetition loop (the text compresses too well), low
    confidence, or skipped speech (after VAD every second is speech, so a long stretch with
    no segment means the decoder jumped over words, a known greedy-Whisper failure)."""
    if any(
        s.compression_ratio > COMPRESSION_RATIO_LIMIT
        or s.avg_logprob < LOW_LOGPROB
        or repeats_one_word(getattr(s, "text", ""))
        for s in segments
    ):
        return True
    if speech_seconds is None or not segments:
        return False
    edges = [0.0]
    for seg in segments:
        edges += [float(seg.start), float(seg.end)]
    edges.append(speech_seconds)
    gaps = (edges[i + 1] - edges[i] for i in range(0, len(edges) - 1, 2))
    return any(gap > MAX_UNTRANSCRIBED_SPEECH for gap in gaps)


class _EncoderMemo(threading.local):
    """Per-thread memo of the first 30 s window's encoder output.

    faster-whisper encodes the first window once for language detection and again in every
    decoding pass; the encoder is most of the cost of a short note. We encode that window
    ourselves, answer language detection from it, and let the decoding passes reuse it: the
    wrapper returns the cached output when faster-whisper asks for exactly the same features
    (compared by value, so any mismatch just falls through to a real encode).
    """

    features: np.ndarray | None = None
    output: Any = None
    hits: int = 0


def _install_encoder_memo(model: Any) -> _EncoderMemo:
    memo = _EncoderMemo()
    original = model.encode

    def encode(features: np.ndarray) -> Any:
        cached = memo.features
        if (
            cached is not None
            and features.shape == cached.shape
            and np.array_equal(features, cached)
        ):
            memo.hits += 1
            return memo.output
        return original(features)

    model.encode = encode
    return memo


class Transcriber:
    def __init__(
        self,
        model_dir: Path,
        *,
        options: SttOptions | None = None,
        max_concurrent: int = 1,
        max_queue: int = 8,
        queue_timeout_seconds: float = 30.0,
        model: Any | None = None,
    ):
        self.model_dir = Path(model_dir)
        self.options = options or SttOptions()
        self.max_concurrent = max(1, max_concurrent)
        self.max_queue = max(0, max_queue)
        self.queue_timeout_seconds = queue_timeout_seconds
        self.cpu_threads = self.options.cpu_threads or default_cpu_threads(self.max_concurrent)
        self.model_name = self.model_dir.name
        self._model: Any = None
        # A WhisperModel already in memory (tests share one across servers); used by load().
        self._preloaded = model
        self._memo: _EncoderMemo | None = None
        self._load_lock = threading.Lock()
        self._slots = asyncio.Semaphore(self.max_concurrent)
        self._waiting = 0
        self._executor = ThreadPoolExecutor(
            max_workers=self.max_concurrent, thread_name_prefix="whisper"
        )
        # Observability (also used by the tests to prove the bound holds).
        self._running = 0
        self._running_lock = threading.Lock()
        self.peak_running = 0

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._model is not None

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    def load(self) -> None:
        """Load the model (blocking; call from a thread). Idempotent."""
        with self._load_lock:
            if self._model is not None:
                return
            if self._preloaded is not None:
                self._memo = getattr(
                    self._preloaded, "_posada_encoder_memo", None
                ) or _install_encoder_memo(self._preloaded)
                self._preloaded._posada_encoder_memo = self._memo
                self._model = self._preloaded
                return
            from faster_whisper import WhisperModel

            model = WhisperModel(
                str(self.model_dir),
                device="cpu",
                compute_type=self.options.compute_type,
                cpu_threads=self.cpu_threads,
                num_workers=self.max_concurrent,
                local_files_only=True,
            )
            # One tiny pass so the first guest does not pay for lazy initialisation.
            model.detect_language(np.zeros(SAMPLE_RATE, dtype=np.float32))
            self._memo = _install_encoder_memo(model)
            model._posada_encoder_memo = self._memo
            self._model = model

    async def aload(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self.load)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._model = None

    # -- admission -----------------------------------------------------------------------

    async def _acquire(self, timeout: float | None) -> None:
        if self._slots.locked() and self._waiting >= self.max_queue:
            raise Overloaded(
                f"{self.max_concurrent} transcriptions running and {self._waiting} waiting; "
                "try again shortly"
            )
        budget = (
            self.queue_timeout_seconds
            if timeout is None
            else min(timeout, self.queue_timeout_seconds)
        )
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=max(0.0, budget))
        except TimeoutError as exc:
            raise Overloaded(f"no transcription slot free within {budget:.1f}s") from exc
        finally:
            self._waiting -= 1

    async def transcribe(
        self, samples: np.ndarray, *, language: str | None = None, timeout: float | None = None
    ) -> TranscriptionResult:
        """Transcribe 16 kHz mono float32 samples; waits for a slot (see class doc)."""
        if not self.ready:
            raise NotReady("speech model is still loading")
        await self._acquire(timeout)
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, self._transcribe_blocking, samples, language
            )
        finally:
            self._slots.release()

    # -- the work --------------------------------------------------------------------------

    def _transcribe_blocking(
        self, samples: np.ndarray, language: str | None
    ) -> TranscriptionResult:
        with self._running_lock:
            self._running += 1
            self.peak_running = max(self.peak_running, self._running)
        TRANSCRIPTIONS_RUNNING.inc()
        try:
            return self._run(samples, language)
        finally:
            TRANSCRIPTIONS_RUNNING.dec()
            with self._running_lock:
                self._running -= 1

    def _decode(self, speech: np.ndarray, lang: str, beam_size: int) -> list[Any]:
        model = self._model
        segments, _info = model.transcribe(
            speech,
            language=lang,
            task="transcribe",
            beam_size=beam_size,
            best_of=1,
            # Temperature 0 only: Whisper's sampling fallback makes the same note come out
            # differently on each call (and, on hard audio, as fluent nonsense); a
            # deterministic answer with its real confidence is more useful.
            temperature=self.options.temperatures,
            vad_filter=False,  # VAD already applied by the caller
            initial_prompt=prompt_for(lang) if self.options.use_vocabulary_prompt else None,
            condition_on_previous_text=False,
            without_timestamps=False,
        )
        return list(segments)

    def _run(self, samples: np.ndarray, language: str | None) -> TranscriptionResult:
        model = self._model
        assert model is not None
        opts = self.options
        timings: dict[str, float] = {}
        duration = len(samples) / SAMPLE_RATE
        vad_options = VadOptions(min_silence_duration_ms=opts.vad_min_silence_ms)
        lang = (language or "").split("-")[0].lower() or None

        t0 = time.perf_counter()
        speech = samples
        ts_map: SpeechTimestampsMap | None = None
        if opts.vad:
            # VAD once: the speech-only audio serves both language detection and decoding,
            # and segment times are mapped back to the original note afterwards.
            chunks = get_speech_timestamps(samples, vad_options)
            timings["vad"] = time.perf_counter() - t0
            if not chunks:
                # Silence or noise only: nothing to transcribe (and no hallucinated prompt).
                return TranscriptionResult(
                    text="",
                    language=lang or "",
                    language_probability=0.0,
                    duration_seconds=duration,
                    segments=[],
                    model=self.model_name,
                    timings=timings,
                )
            speech = np.concatenate([samples[c["start"] : c["end"]] for c in chunks])
            ts_map = SpeechTimestampsMap(chunks, SAMPLE_RATE)

        memo = self._memo
        assert memo is not None
        try:
            return self._run_speech(samples, speech, lang, ts_map, duration, timings, memo)
        finally:
            memo.features = None
            memo.output = None

    def _run_speech(
        self,
        samples: np.ndarray,
        speech: np.ndarray,
        lang: str | None,
        ts_map: SpeechTimestampsMap | None,
        duration: float,
        timings: dict[str, float],
        memo: _EncoderMemo,
    ) -> TranscriptionResult:
        model = self._model
        opts = self.options
        t0 = time.perf_counter()
        # The first window, exactly as faster-whisper will slice it, encoded once.
        fe = model.feature_extractor
        features = fe(speech)
        first = pad_or_trim(features[:, : min(fe.nb_max_frames, features.shape[-1] - 1)])
        memo.features, memo.output, memo.hits = first, model.encode(first), 0
        if lang:
            lang_prob = 1.0
        else:
            # Detect first so the vocabulary prompt can be in the right language, and so the
            # answer can be restricted to the languages guests actually use.
            results = model.model.detect_language(memo.output)[0]
            all_probs = [(token[2:-2], prob) for token, prob in results]
            lang, lang_prob = restrict_language(all_probs, opts.allowed_languages)
        timings["language_detection"] = time.perf_counter() - t0

        t1 = time.perf_counter()
        raw = self._decode(speech, lang, opts.beam_size)
        timings["beams"] = float(opts.beam_size)
        speech_seconds = len(speech) / SAMPLE_RATE if opts.vad else None
        if opts.fallback_beam_size > opts.beam_size and _needs_wider_beam(raw, speech_seconds):
            # Greedy decoding looped, skipped speech or is unsure: decode again with a
            # wider beam. Both passes are deterministic, so the same note always gives the
            # same text; only the (rare) hard notes pay for the beam.
            raw = self._decode(speech, lang, opts.fallback_beam_size)
            timings["beams"] = float(opts.fallback_beam_size)
        # A segment that still loops after the wider beam is a hallucination (short robotic
        # or noisy clips give "No, no, no, no…"), not what the guest said. Dropping it makes
        # the agent ask again instead of acting on a phantom "no".
        kept = [
            s
            for s in raw
            if s.compression_ratio <= COMPRESSION_RATIO_LIMIT and not repeats_one_word(s.text)
        ]
        timings["dropped_loops"] = float(len(raw) - len(kept))
        raw = kept

        def original(t: float, is_end: bool = False) -> float:
            return float(ts_map.get_original_time(t, is_end=is_end)) if ts_map else float(t)

        segments = [
            Segment(
                start=round(min(original(s.start), duration), 3),
                end=round(min(original(s.end, is_end=True), duration), 3),
                text=s.text.strip(),
                # Geometric mean of the token probabilities of the segment.
                confidence=float(min(1.0, max(0.0, math.exp(s.avg_logprob)))),
            )
            for s in raw
            if s.text.strip()
        ]
        timings["decode"] = time.perf_counter() - t1
        timings["encoder_reused"] = float(memo.hits)
        text = " ".join(s.text for s in segments).strip()
        return TranscriptionResult(
            text=text,
            language=lang,
            language_probability=float(lang_prob),
            duration_seconds=duration,
            segments=segments,
            model=self.model_name,
            timings=timings,
        )
