"""Prometheus metrics of the audio service (default registry, names `posada_audio_*`)."""

from __future__ import annotations

from posada_common.metrics import precreate
from prometheus_client import Counter, Gauge, Histogram

TRANSCRIPTIONS = Counter(
    "posada_audio_transcriptions",
    "Transcriptions finished, by detected language and outcome (ok, empty, rejected, error).",
    ["language", "outcome"],
)
TRANSCRIBE_SECONDS = Histogram(
    "posada_audio_transcribe_seconds",
    "Wall time to decode and transcribe one note (excluding time waiting for a slot).",
    buckets=(0.25, 0.5, 1, 1.5, 2, 3, 5, 8, 13, 21, 34, 60, 120),
)
INPUT_SECONDS = Histogram(
    "posada_audio_input_duration_seconds",
    "Duration of the notes we were asked to transcribe.",
    buckets=(1, 2, 5, 10, 15, 30, 60, 120, 300, 600),
)
REAL_TIME_FACTOR = Histogram(
    "posada_audio_real_time_factor",
    "Transcription wall time divided by audio duration (below 1 = faster than real time).",
    buckets=(0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5),
)
TRANSCRIPTIONS_RUNNING = Gauge(
    "posada_audio_transcriptions_running", "Transcriptions using the model right now."
)
TRANSCRIPTIONS_WAITING = Gauge(
    "posada_audio_transcriptions_waiting", "Transcriptions queued for a model slot."
)
REJECTED = Counter(
    "posada_audio_rejected",
    "Requests refused before any model work, by reason (AUDIO_TOO_LARGE, OVERLOADED...).",
    ["reason"],
)
SYNTHESIS_SECONDS = Histogram(
    "posada_audio_synthesis_seconds",
    "Wall time to synthesise and encode one reply, by engine and format.",
    ["engine", "format"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
MODEL_LOADED = Gauge("posada_audio_model_loaded", "1 once the speech model is loaded.")

# Known label values exported at zero from the start, so the first failure moves `rate()`.
precreate(TRANSCRIPTIONS, ("", "error"), ("", "rejected"))
precreate(REJECTED, ("OVERLOADED",), ("AUDIO_TOO_LARGE",))
