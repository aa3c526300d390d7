"""Audio service benchmark: speech-to-text real-time factor, TTS latency, peak memory.

    .venv/bin/python bench/audio/run.py [--quick] [--out bench/results/audio.json]

Notes of 5, 10, 15 and 60 s are made offline with eSpeak NG (Spanish booking sentences, with
short pauses), encoded as WhatsApp voice notes (OGG/Opus mono 24 kbit/s), then decoded and
transcribed exactly as the service does (`AudioEngine.transcribe`). The goal from issue 5 is a
10 s note in under 2 s on the 2-core machine. A small tuning sweep (beam size, CPU threads,
VAD, language detection) on the 10 s note shows why the defaults are what they are.

The machine is shared with other work, so every figure is a median of several runs and the
load average is recorded next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "audio" / "src"))

from posada_audio.codec import OutputFormat, decode_audio, encode_audio  # noqa: E402
from posada_audio.model_assets import prepare_model  # noqa: E402
from posada_audio.service import AudioEngine  # noqa: E402
from posada_audio.settings import AudioSettings  # noqa: E402
from posada_audio.stt import SttOptions, Transcriber  # noqa: E402
from posada_audio.tts import EspeakEngine, VoiceCatalog  # noqa: E402
from posada_audio.wer import word_error_rate  # noqa: E402

SENTENCES = {
    "es": [
        "Hola, quiero reservar una habitación.",
        "Para dos personas, por favor.",
        "Buenos días, quisiera hacer una reserva de una habitación doble para dos personas.",
        "Llegamos el viernes por la tarde y nos vamos el domingo después del desayuno.",
        "¿Tienen aparcamiento en el hotel y se admiten mascotas pequeñas?",
        "También quería saber a qué hora es el check-in y si puedo dejar las maletas antes.",
        "Si es posible, preferimos una habitación tranquila con vistas al mar.",
        "Muchas gracias, espero su respuesta para confirmar la reserva.",
    ],
    "en": [
        "Hello, I would like to book a double room for two adults.",
        "What time is check-in, and can I leave my bags early?",
        "Do you have parking at the hotel?",
    ],
    "pt": [
        "Bom dia, eu preciso de um quarto para amanhã, para duas pessoas.",
        "Qual é o horário do check-in?",
        "Vocês têm estacionamento no hotel?",
    ],
}
VOICES = {"es": "es", "en": "en-us", "pt": "pt-br"}


def out_beam(result) -> int | None:
    return int(result.timings.get("beams", 0)) if result else None


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


async def make_note(catalog: VoiceCatalog, seconds: float) -> tuple[bytes, str]:
    """A Spanish voice note of exactly `seconds`: whole sentences with 0.4 s pauses, chosen
    greedily (cycling through the list) while they fit, then padded with silence."""
    rate = 22_050
    pause = np.zeros(int(0.4 * rate), dtype=np.float32)
    speeches = [(t, (await catalog.synthesize(t, "es")).samples) for t in SENTENCES["es"]]
    pieces: list[np.ndarray] = []
    spoken: list[str] = []
    total = 0
    target = int(seconds * rate)
    i = 0
    misses = 0
    while misses < len(speeches):
        text, samples = speeches[i % len(speeches)]
        i += 1
        n = len(samples) + len(pause)
        if total + n > target:
            misses += 1
            continue
        misses = 0
        pieces += [samples, pause]
        spoken.append(text)
        total += n
    pieces.append(np.zeros(target - total, dtype=np.float32))
    samples = np.concatenate(pieces)
    return encode_audio(samples, rate, OutputFormat.OGG_OPUS), " ".join(spoken)


async def bench_stt(engine: AudioEngine, notes: dict[float, tuple[bytes, str]], runs: int) -> dict:
    out: dict[str, dict] = {}
    for seconds, (note, text) in notes.items():
        for hint in ("es", ""):
            times: list[float] = []
            decode_times: list[float] = []
            cpu_times: list[float] = []
            result = None
            n = runs if seconds <= 15 else max(1, runs - 1)
            for _ in range(n):
                t0 = time.perf_counter()
                decode_audio(note, max_bytes=16 << 20, max_duration_seconds=300)
                decode_times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                c0 = time.process_time()
                result = await engine.transcribe(note, language_hint=hint)
                times.append(time.perf_counter() - t0)
                cpu_times.append(time.process_time() - c0)
            median = statistics.median(times)
            key = f"{int(seconds)}s_{'hint' if hint else 'detect'}"
            out[key] = {
                "audio_seconds": seconds,
                "note_bytes": len(note),
                "language_hint": hint or None,
                "runs": n,
                "wall_seconds_median": round(median, 3),
                "wall_seconds_min": round(min(times), 3),
                "cpu_seconds_median": round(statistics.median(cpu_times), 3),
                "decode_seconds_median": round(statistics.median(decode_times), 4),
                "beam_used": result.timings.get("beams") if result else None,
                "real_time_factor": round(median / seconds, 3),
                "detected_language": result.language if result else None,
                "word_error_rate": round(word_error_rate(text, result.text, "es"), 3)
                if result
                else None,
                "loadavg_1m": loadavg(),
            }
            print(
                f"  stt {key:12} wall {median:6.2f}s (min {min(times):5.2f})  RTF {median / seconds:5.3f}  "
                f"cpu {statistics.median(cpu_times):5.2f}s  beam {out_beam(result)}  "
                f"(decode {statistics.median(decode_times) * 1000:.0f} ms, WER {out[key]['word_error_rate']}, "
                f"load {loadavg()})",
                flush=True,
            )
    return out


async def bench_tuning(note10: bytes, runs: int) -> list[dict]:
    """10 s note: beam size x threads x VAD, language given; plus detection cost."""
    samples = decode_audio(note10, max_bytes=16 << 20, max_duration_seconds=300).samples
    model_dir = prepare_model().path
    rows: list[dict] = []
    configs = [
        {"cpu_threads": 2, "beam_size": 1, "fallback_beam_size": 5, "vad": True},  # default
        {"cpu_threads": 2, "beam_size": 1, "fallback_beam_size": 0, "vad": True},
        {"cpu_threads": 2, "beam_size": 5, "fallback_beam_size": 0, "vad": True},
        {"cpu_threads": 2, "beam_size": 1, "fallback_beam_size": 5, "vad": False},
        {"cpu_threads": 1, "beam_size": 1, "fallback_beam_size": 5, "vad": True},
    ]
    for cfg in configs:
        t = Transcriber(model_dir, options=SttOptions(**cfg), max_concurrent=1)
        await t.aload()
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            await t.transcribe(samples, language="es")
            times.append(time.perf_counter() - t0)
        cfg = {**cfg, "wall_seconds_min": round(min(times), 3)}
        t.close()
        row = {
            **cfg,
            "wall_seconds_median": round(statistics.median(times), 3),
            "loadavg_1m": loadavg(),
        }
        rows.append(row)
        print(f"  tune {cfg} -> {row['wall_seconds_median']:.2f}s", flush=True)
    return rows


async def bench_tts(catalog: VoiceCatalog, runs: int) -> dict:
    out: dict[str, dict] = {}
    for lang, sentences in SENTENCES.items():
        voice = VOICES[lang]
        synth, encode, durations = [], [], []
        for _ in range(runs):
            for text in sentences[:3]:
                t0 = time.perf_counter()
                speech = await catalog.synthesize(text, voice)
                t1 = time.perf_counter()
                encode_audio(speech.samples, speech.sample_rate, OutputFormat.OGG_OPUS)
                t2 = time.perf_counter()
                synth.append(t1 - t0)
                encode.append(t2 - t1)
                durations.append(speech.duration_seconds)
        out[voice] = {
            "sentences": len(synth),
            "synthesis_ms_median": round(statistics.median(synth) * 1000, 1),
            "ogg_opus_encode_ms_median": round(statistics.median(encode) * 1000, 1),
            "total_ms_median": round(
                statistics.median([a + b for a, b in zip(synth, encode, strict=True)]) * 1000, 1
            ),
            "speech_seconds_median": round(statistics.median(durations), 2),
        }
        print(
            f"  tts {voice:6} {out[voice]['total_ms_median']:6.1f} ms per sentence "
            f"(synth {out[voice]['synthesis_ms_median']} + encode {out[voice]['ogg_opus_encode_ms_median']})",
            flush=True,
        )
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs, no tuning sweep")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "audio.json"))
    args = parser.parse_args()
    runs = 2 if args.quick else 4

    catalog = VoiceCatalog([EspeakEngine()])
    print("making notes...", flush=True)
    notes = {s: await make_note(catalog, s) for s in (5.0, 10.0, 15.0, 60.0)}

    settings = AudioSettings(whisper_cpu_threads=0, transcribe_max_concurrent=1)
    engine = AudioEngine(settings)
    t0 = time.perf_counter()
    await engine.load()
    load_seconds = time.perf_counter() - t0
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"model loaded in {load_seconds:.2f}s (cpu_threads={engine.transcriber.cpu_threads}, "
        f"beam={settings.whisper_beam_size})",
        flush=True,
    )

    tracemalloc.start()
    stt = await bench_stt(engine, notes, runs)
    _cur, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine.close()

    tuning = [] if args.quick else await bench_tuning(notes[10.0][0], runs)
    tts = await bench_tts(catalog, runs)

    ten = stt["10s_hint"]["wall_seconds_median"]
    ten_min = stt["10s_hint"]["wall_seconds_min"]
    results = {
        "benchmark": "audio",
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "affinity": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "loadavg_1m_at_end": loadavg(),
            "note": "shared 2-core machine; medians of several runs",
        },
        "model": {
            "name": "whisper-base (CTranslate2, int8)",
            "load_seconds": round(load_seconds, 2),
            "cpu_threads": settings.whisper_cpu_threads or 2,
            "beam_size": settings.whisper_beam_size,
            "fallback_beam_size": settings.whisper_fallback_beam_size,
            "vad": settings.whisper_vad,
        },
        "stt": stt,
        "goal_10s_note_under_2s": {
            "wall_seconds_median": ten,
            "wall_seconds_min": ten_min,
            "met": ten < 2.0,
            "note": "language hint given; see stt.10s_detect for detection (it reuses the first encoder pass)",
        },
        "tuning_10s_note": tuning,
        "tts_per_sentence": tts,
        "memory": {
            "peak_rss_mb": round(rss_peak / 1024, 1),
            "rss_after_model_load_mb": round(rss_after_load / 1024, 1),
            "python_heap_peak_mb_during_stt": round(py_peak / 1024 / 1024, 1),
            "note": "ru_maxrss covers CTranslate2/FFmpeg native memory; tracemalloc only Python objects",
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(out)
    print(
        f"10 s note: {ten:.2f}s ({'meets' if ten < 2 else 'misses'} the < 2 s goal); "
        f"peak RSS {results['memory']['peak_rss_mb']} MB; wrote {out}"
    )


if __name__ == "__main__":
    asyncio.run(main())
