"""Text-to-speech behind a small engine interface.

An engine turns text into mono float32 PCM for one of its voices; encoding to a voice note is
done elsewhere (`codec.encode_audio`), so a new engine (Piper, Coqui) only has to implement
`TtsEngine` and register its voices in a `VoiceCatalog`.

The first engine is eSpeak NG (Debian package ``espeak-ng``): formant synthesis, robotic but
tiny, fast, offline, and it covers Spanish of Spain and of Latin America, English and both
Portuguese variants. We run the binary (not a Python binding) with the text on stdin, so no
text is ever interpreted as a command-line option.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import struct
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class TtsError(RuntimeError):
    """The engine failed (not the caller's fault)."""


class UnknownVoiceError(ValueError):
    def __init__(self, voice: str, known: list[str]):
        super().__init__(f"unknown voice {voice!r}; known voices: {', '.join(known)}")
        self.voice = voice


@dataclass(frozen=True)
class VoiceInfo:
    id: str  # stable id clients pass back ("es", "pt-br"...)
    language: str  # BCP-47 tag ("es-ES", "es-419", "en-US", "pt-BR", "pt-PT")
    engine: str
    description: str


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    voice: str

    @property
    def duration_seconds(self) -> float:
        return len(self.samples) / float(self.sample_rate)


class TtsEngine(Protocol):
    name: str

    def voices(self) -> list[VoiceInfo]: ...

    async def synthesize(self, text: str, voice_id: str, *, speed: float = 1.0) -> Speech: ...


# ---------------------------------------------------------------------------------------------
# eSpeak NG

# voice id -> (eSpeak voice name, BCP-47 language, description)
# The "+klatt" variant (eSpeak's Klatt formant synthesiser) was measurably easier for Whisper
# to understand than the default variant in our round-trip grid (docs/adr-0001), and no worse
# to the ear; 150 words per minute is a little slower than eSpeak's 175 for the same reason.
_ESPEAK_VOICES: dict[str, tuple[str, str, str]] = {
    "es": ("es+klatt", "es-ES", "Spanish (Spain), eSpeak NG"),
    "es-419": ("es-419+klatt", "es-419", "Spanish (Latin America), eSpeak NG"),
    "en-us": ("en-us+klatt", "en-US", "English (America), eSpeak NG"),
    "en-gb": ("en-gb+klatt", "en-GB", "English (Great Britain), eSpeak NG"),
    "pt-br": ("pt-br+klatt", "pt-BR", "Portuguese (Brazil), eSpeak NG"),
    "pt": ("pt+klatt", "pt-PT", "Portuguese (Portugal), eSpeak NG"),
}

ESPEAK_DEFAULT_WPM = 150


def _parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Parse eSpeak's streamed WAV (its size fields may be bogus, so read the data to the end)."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise TtsError("espeak-ng returned no WAV data")
    pos = 12
    rate = channels = bits = 0
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            _fmt, channels, rate = struct.unpack_from("<HHI", data, body)
            bits = struct.unpack_from("<H", data, body + 14)[0]
        elif chunk_id == b"data":
            if bits != 16 or channels != 1 or not rate:
                raise TtsError(f"unexpected espeak-ng WAV format {channels}ch/{bits}bit")
            payload = data[body:]
            if size and size != 0xFFFFFFFF and size <= len(payload):
                payload = payload[:size]
            payload = payload[: len(payload) // 2 * 2]
            pcm = np.frombuffer(payload, dtype="<i2").astype(np.float32) / 32768.0
            return pcm, rate
        pos = body + size + (size & 1)
    raise TtsError("espeak-ng WAV has no data chunk")


class EspeakEngine:
    """eSpeak NG through its command-line program (``espeak-ng --stdout``)."""

    name = "espeak-ng"

    def __init__(self, binary: str = "espeak-ng", *, timeout_seconds: float = 30.0):
        self.binary = binary
        self.timeout_seconds = timeout_seconds

    def available(self) -> bool:
        return shutil.which(self.binary) is not None

    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(vid, lang, self.name, desc) for vid, (_, lang, desc) in _ESPEAK_VOICES.items()
        ]

    async def synthesize(self, text: str, voice_id: str, *, speed: float = 1.0) -> Speech:
        espeak_voice = _ESPEAK_VOICES[voice_id][0]
        wpm = max(80, min(450, round(ESPEAK_DEFAULT_WPM * speed)))
        # -b 1: input is UTF-8; text comes on stdin (never argv) so it cannot become an option.
        try:
            proc = await asyncio.create_subprocess_exec(
                self.binary,
                "-v",
                espeak_voice,
                "-s",
                str(wpm),
                "-b",
                "1",
                "--stdout",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env={**os.environ, "LC_ALL": "C.UTF-8"},
            )
        except FileNotFoundError as exc:
            raise TtsError(f"{self.binary} is not installed (Debian package espeak-ng)") from exc
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(text.encode("utf-8")), self.timeout_seconds
            )
        except TimeoutError as exc:
            proc.kill()
            await proc.wait()
            raise TtsError(f"espeak-ng took longer than {self.timeout_seconds:g}s") from exc
        except asyncio.CancelledError:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            raise
        if proc.returncode != 0:
            raise TtsError(
                f"espeak-ng exited with {proc.returncode}: {err.decode(errors='replace')[:200]}"
            )
        samples, rate = _parse_wav(out)
        return Speech(samples=samples, sample_rate=rate, voice=voice_id)


# ---------------------------------------------------------------------------------------------
# Catalogue

# What callers may pass instead of a voice id: languages and common regional tags.
_ALIASES = {
    "es-es": "es",
    "es-mx": "es-419",
    "es-us": "es-419",
    "es-ar": "es-419",
    "es-co": "es-419",
    "es-cl": "es-419",
    "es-pe": "es-419",
    "es-la": "es-419",
    "en": "en-us",
    "en-uk": "en-gb",
    "pt-pt": "pt",
}


class VoiceCatalog:
    """All voices of all engines; resolves a voice id or language to (engine, voice id)."""

    def __init__(self, engines: list[TtsEngine], default_voice: str = "es"):
        self._engines = engines
        self._voices: dict[str, tuple[TtsEngine, VoiceInfo]] = {}
        for engine in engines:
            for voice in engine.voices():
                self._voices.setdefault(voice.id, (engine, voice))
                # Engine-qualified id always works, e.g. "espeak-ng:es".
                self._voices[f"{engine.name}:{voice.id}"] = (engine, voice)
        self.default_voice = self.resolve(default_voice)[1].id

    def list(self) -> list[VoiceInfo]:
        seen: dict[tuple[str, str], VoiceInfo] = {}
        for engine, voice in self._voices.values():
            seen.setdefault((engine.name, voice.id), voice)
        return list(seen.values())

    def resolve(self, voice: str) -> tuple[TtsEngine, VoiceInfo]:
        key = (voice or "").strip().lower().replace("_", "-")
        if not key:
            key = getattr(self, "default_voice", "es")
        key = _ALIASES.get(key, key)
        if key in self._voices:
            return self._voices[key]
        raise UnknownVoiceError(voice, sorted(v.id for v in self.list()))

    async def synthesize(self, text: str, voice: str, *, speed: float = 1.0) -> Speech:
        engine, info = self.resolve(voice)
        return await engine.synthesize(text, info.id, speed=speed)
