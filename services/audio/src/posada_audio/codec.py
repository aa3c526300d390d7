"""Audio decoding and encoding with PyAV (bundled FFmpeg; no system ffmpeg needed).

Decoding turns whatever a guest sends (WhatsApp OGG/Opus voice notes, mp3, m4a/aac, amr, wav,
flac...) into 16 kHz mono float32, which is what Whisper wants. The container is *sniffed*
from the bytes: the declared MIME type is only a hint for logs, because clients and e-mail
gateways lie about it. Decoding is bounded: it stops as soon as the duration limit is passed,
so a tiny file that expands to hours of audio cannot exhaust memory.

Encoding produces OGG/Opus mono (what WhatsApp plays as a voice note), WAV or MP3.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

import av
import av.error
import numpy as np

WHISPER_RATE = 16_000


class AudioInputError(ValueError):
    """The audio cannot be used; the message is safe to return to the caller."""

    def __init__(self, message: str, *, reason: str, field: str = "audio"):
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.field = field


class OutputFormat(StrEnum):
    OGG_OPUS = "ogg_opus"
    WAV = "wav"
    MP3 = "mp3"


MIME_TYPES = {
    OutputFormat.OGG_OPUS: "audio/ogg; codecs=opus",
    OutputFormat.WAV: "audio/wav",
    OutputFormat.MP3: "audio/mpeg",
}


@dataclass(frozen=True)
class DecodedAudio:
    samples: np.ndarray  # float32, mono, WHISPER_RATE (or the requested rate)
    sample_rate: int
    container: str  # what we sniffed / what FFmpeg probed
    codec: str

    @property
    def duration_seconds(self) -> float:
        return len(self.samples) / float(self.sample_rate)


def sniff_container(data: bytes) -> str:
    """Best guess of the container from magic bytes; 'unknown' when nothing matches."""
    head = data[:64]
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"#!AMR-WB"):
        return "amr-wb"
    if head.startswith(b"#!AMR"):
        return "amr"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"ID3"):
        return "mp3"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS sync word, layer 0 → AAC
            return "aac"
        if head[1] & 0xE0 == 0xE0:  # MPEG audio frame sync
            return "mp3"
    return "unknown"


# Demuxer names to force when FFmpeg's probe is unsure (raw streams without much structure).
_FORCED_DEMUXER = {"amr": "amr", "amr-wb": "amr", "aac": "aac", "mp3": "mp3"}


def _open(data: bytes, sniffed: str) -> av.container.InputContainer:
    errors: list[str] = []
    attempts: list[str | None] = [None]
    if sniffed in _FORCED_DEMUXER:
        attempts.append(_FORCED_DEMUXER[sniffed])
    for fmt in attempts:
        try:
            return av.open(io.BytesIO(data), mode="r", format=fmt, metadata_errors="ignore")
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            errors.append(str(exc))
    raise AudioInputError(
        "audio could not be decoded: the data is not a supported audio file "
        "(expected ogg/opus, mp3, m4a/aac, amr, wav or flac)",
        reason="AUDIO_UNDECODABLE",
    )


def decode_audio(
    data: bytes,
    *,
    max_bytes: int,
    max_duration_seconds: float,
    sample_rate: int = WHISPER_RATE,
) -> DecodedAudio:
    """Decode `data` to mono float32 at `sample_rate`, enforcing size and duration limits."""
    if not data:
        raise AudioInputError("audio is empty", reason="AUDIO_EMPTY")
    if len(data) > max_bytes:
        raise AudioInputError(
            f"audio is {len(data)} bytes; the limit is {max_bytes} bytes",
            reason="AUDIO_TOO_LARGE",
        )
    sniffed = sniff_container(data)
    container = _open(data, sniffed)
    try:
        stream = next((s for s in container.streams if s.type == "audio"), None)
        if stream is None:
            raise AudioInputError("the file has no audio stream", reason="AUDIO_NO_STREAM")
        # The header's duration is only advisory (and cheap): reject obvious cases early.
        if stream.duration is not None and stream.time_base is not None:
            declared = float(stream.duration * stream.time_base)
            if declared > max_duration_seconds + 1.0:
                raise _too_long(max_duration_seconds)
        max_samples = int(max_duration_seconds * sample_rate) + sample_rate // 2
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks: list[np.ndarray] = []
        total = 0

        def take(frames: list[av.AudioFrame]) -> None:
            nonlocal total
            for frame in frames:
                arr = frame.to_ndarray().reshape(-1)
                chunks.append(arr)
                total += arr.shape[0]
            if total > max_samples:
                raise _too_long(max_duration_seconds)

        try:
            for frame in container.decode(stream):
                take(resampler.resample(cast(av.AudioFrame, frame)))
            take(resampler.resample(None))
        except av.error.FFmpegError as exc:
            raise AudioInputError(
                f"audio is corrupt and could not be decoded ({type(exc).__name__})",
                reason="AUDIO_CORRUPT",
            ) from exc
        codec = stream.codec_context.name if stream.codec_context else "unknown"
        fmt_name = container.format.name if container.format else sniffed
    finally:
        container.close()
    if total == 0:
        raise AudioInputError("audio contains no samples", reason="AUDIO_NO_SAMPLES")
    samples = np.concatenate(chunks).astype(np.float32, copy=False)
    if not np.isfinite(samples).all():
        raise AudioInputError("audio contains invalid samples", reason="AUDIO_CORRUPT")
    return DecodedAudio(samples=samples, sample_rate=sample_rate, container=fmt_name, codec=codec)


def _too_long(limit: float) -> AudioInputError:
    return AudioInputError(
        f"audio is longer than the limit of {limit:g} seconds", reason="AUDIO_TOO_LONG"
    )


# ---------------------------------------------------------------------------------------------
# Encoding


def _encode(
    samples: np.ndarray,
    sample_rate: int,
    *,
    container_format: str,
    codec: str,
    out_rate: int,
    out_format: str,
    bit_rate: int | None = None,
    options: dict[str, str] | None = None,
) -> bytes:
    buf = io.BytesIO()
    pcm = np.ascontiguousarray(np.clip(samples, -1.0, 1.0).astype(np.float32)).reshape(1, -1)
    with av.open(buf, mode="w", format=container_format) as out:
        stream = cast(Any, out.add_stream(codec, rate=out_rate, options=options or {}))
        stream.layout = "mono"
        if bit_rate:
            stream.bit_rate = bit_rate
        frame_size = stream.codec_context.frame_size or None
        resampler = av.AudioResampler(
            format=out_format, layout="mono", rate=out_rate, frame_size=frame_size
        )
        src = av.AudioFrame.from_ndarray(pcm, format="flt", layout="mono")
        src.sample_rate = sample_rate
        for frame in [*resampler.resample(src), *resampler.resample(None)]:
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def encode_audio(
    samples: np.ndarray, sample_rate: int, fmt: OutputFormat, *, opus_bitrate: int = 24_000
) -> bytes:
    """Encode mono float32 samples as OGG/Opus (voice note), WAV (s16) or MP3."""
    if fmt is OutputFormat.OGG_OPUS:
        # Encoded at 24 kHz (super-wideband: all of a TTS voice's band, half the resampling
        # and encoding work of 48 kHz); OGG Opus still declares 48 kHz playback as players
        # expect. 'voip' tunes the encoder for speech; 24 kbit/s keeps a 2-3 minute note under
        # WhatsApp's 512 KB "play button" limit.
        return _encode(
            samples,
            sample_rate,
            container_format="ogg",
            codec="libopus",
            out_rate=24_000,
            out_format="flt",
            bit_rate=opus_bitrate,
            options={"application": "voip"},
        )
    if fmt is OutputFormat.WAV:
        return _encode(
            samples,
            sample_rate,
            container_format="wav",
            codec="pcm_s16le",
            out_rate=sample_rate,
            out_format="s16",
        )
    if fmt is OutputFormat.MP3:
        rate = (
            sample_rate
            if sample_rate in (16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
            else 24_000
        )
        return _encode(
            samples,
            sample_rate,
            container_format="mp3",
            codec="libmp3lame",
            out_rate=rate,
            out_format="fltp",
            bit_rate=48_000,
        )
    raise ValueError(f"unsupported output format {fmt!r}")


def probe(data: bytes) -> dict[str, object]:
    """Container, codec, channels and rate of encoded audio (for tests and the CLI)."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = next(s for s in container.streams if s.type == "audio")
        ctx = cast(Any, stream.codec_context)
        return {
            "container": container.format.name,
            "codec": ctx.name,
            "channels": ctx.channels,
            "sample_rate": ctx.sample_rate,
        }
