"""Formats are sniffed from the bytes, every format a guest may send decodes to 16 kHz mono,
and every voice synthesises into WhatsApp-playable OGG/Opus, WAV or MP3."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from hotel.audio.v1 import audio_service_pb2 as pb
from posada_audio.codec import (
    AudioInputError,
    OutputFormat,
    decode_audio,
    encode_audio,
    probe,
    sniff_container,
)
from posada_audio.tts import EspeakEngine, UnknownVoiceError, VoiceCatalog
from posada_audio.wer import word_error_rate

RATE = 22_050
LIMITS = {"max_bytes": 16 * 1024 * 1024, "max_duration_seconds": 300.0}


def tone(seconds: float = 2.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def encode_with(container: str, codec: str, rate: int, sample_format: str, bit_rate: int) -> bytes:
    """Encode a tone the way phones and mail clients do (AMR, AAC in M4A or ADTS...)."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        stream.bit_rate = bit_rate
        resampler = av.AudioResampler(
            format=sample_format,
            layout="mono",
            rate=rate,
            frame_size=stream.codec_context.frame_size or None,
        )
        src = av.AudioFrame.from_ndarray(tone().reshape(1, -1), format="flt", layout="mono")
        src.sample_rate = RATE
        for frame in [*resampler.resample(src), *resampler.resample(None)]:
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


GUEST_FORMATS = {
    "ogg_opus": lambda: encode_audio(tone(), RATE, OutputFormat.OGG_OPUS),
    "mp3": lambda: encode_audio(tone(), RATE, OutputFormat.MP3),
    "wav": lambda: encode_audio(tone(), RATE, OutputFormat.WAV),
    "m4a_aac": lambda: encode_with("ipod", "aac", 16_000, "fltp", 32_000),
    "adts_aac": lambda: encode_with("adts", "aac", 16_000, "fltp", 32_000),
    "amr_nb": lambda: encode_with("amr", "libopencore_amrnb", 8_000, "s16", 12_200),
}
SNIFFED = {
    "ogg_opus": "ogg",
    "mp3": "mp3",
    "wav": "wav",
    "m4a_aac": "mp4",
    "adts_aac": "aac",
    "amr_nb": "amr",
}


@pytest.mark.parametrize("kind", sorted(GUEST_FORMATS))
def test_every_guest_format_decodes_to_16khz_mono_float(kind):
    data = GUEST_FORMATS[kind]()
    assert sniff_container(data) == SNIFFED[kind]
    decoded = decode_audio(data, **LIMITS)
    assert decoded.sample_rate == 16_000
    assert decoded.samples.dtype == np.float32 and decoded.samples.ndim == 1
    assert decoded.duration_seconds == pytest.approx(2.0, abs=0.15)
    assert 0.1 < float(np.abs(decoded.samples).max()) <= 1.0


def test_decode_stops_at_the_duration_limit():
    data = encode_audio(tone(4.0), RATE, OutputFormat.OGG_OPUS)
    with pytest.raises(AudioInputError) as info:
        decode_audio(data, max_bytes=LIMITS["max_bytes"], max_duration_seconds=2.0)
    assert info.value.reason == "AUDIO_TOO_LONG"


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_encoded_output_is_mono_in_the_promised_container(fmt):
    data = encode_audio(tone(), RATE, fmt)
    info = probe(data)
    expected = {
        OutputFormat.OGG_OPUS: ("ogg", "opus"),
        OutputFormat.WAV: ("wav", "pcm_s16le"),
        OutputFormat.MP3: ("mp3", "mp3float"),
    }[fmt]
    assert (info["container"], info["codec"]) == expected
    assert info["channels"] == 1


async def test_list_voices_covers_spain_latin_america_english_and_both_portuguese(stub):
    resp = await stub.ListVoices(pb.ListVoicesRequest(), timeout=10)
    by_id = {v.id: v for v in resp.voices}
    for vid, lang in [
        ("es", "es-ES"),
        ("es-419", "es-419"),
        ("en-us", "en-US"),
        ("pt-br", "pt-BR"),
        ("pt", "pt-PT"),
    ]:
        assert by_id[vid].language == lang
        assert by_id[vid].engine == "espeak-ng"


@pytest.mark.parametrize(
    ("fmt", "mime", "codec"),
    [
        (pb.AUDIO_FORMAT_UNSPECIFIED, "audio/ogg; codecs=opus", "opus"),
        (pb.AUDIO_FORMAT_WAV, "audio/wav", "pcm_s16le"),
        (pb.AUDIO_FORMAT_MP3, "audio/mpeg", "mp3float"),
    ],
)
async def test_synthesize_returns_the_requested_format(stub, fmt, mime, codec):
    resp = await stub.Synthesize(
        pb.SynthesizeRequest(text="Su reserva está confirmada.", voice="es-419", format=fmt),
        timeout=30,
    )
    assert resp.mime_type == mime
    assert probe(resp.audio)["codec"] == codec
    assert resp.voice == "es-419"
    assert 1.0 < resp.duration_seconds < 5.0


async def test_language_aliases_pick_a_voice_and_speed_changes_duration(stub):
    slow = await stub.Synthesize(
        pb.SynthesizeRequest(text="Welcome to the hotel.", voice="en", speed=0.6), timeout=30
    )
    fast = await stub.Synthesize(
        pb.SynthesizeRequest(text="Welcome to the hotel.", voice="en", speed=1.8), timeout=30
    )
    assert slow.voice == fast.voice == "en-us"
    assert slow.duration_seconds > fast.duration_seconds * 1.5


async def test_text_that_looks_like_an_option_is_spoken_not_obeyed():
    catalog = VoiceCatalog([EspeakEngine()])
    speech = await catalog.synthesize("--version -w /tmp/pwned.wav", "en")
    assert speech.duration_seconds > 0.5


def test_unknown_voice_lists_the_known_ones():
    catalog = VoiceCatalog([EspeakEngine()])
    with pytest.raises(UnknownVoiceError) as info:
        catalog.resolve("fr")
    assert "pt-br" in str(info.value)
    assert catalog.resolve("es-MX")[1].id == "es-419"
    assert catalog.resolve("pt-PT")[1].id == "pt"
    assert catalog.resolve("espeak-ng:pt-br")[1].id == "pt-br"


def test_word_error_rate_normalises_case_accents_punctuation_and_numbers():
    assert word_error_rate("Habitación DOBLE, para dos.", "habitacion doble para 2", "es") == 0.0
    assert word_error_rate("from the tenth of March", "from the 10th of March", "en") == 0.0
    assert word_error_rate("a b c d", "a x c", "en") == pytest.approx(0.5)
    assert word_error_rate("", "", "en") == 0.0


@pytest.mark.parametrize("kind", ["ogg_opus", "mp3", "m4a_aac", "wav", "amr_nb"])
def test_truncated_or_bit_flipped_audio_decodes_or_fails_cleanly(kind):
    """Damaged downloads either still decode or raise AudioInputError; nothing else escapes."""
    good = GUEST_FORMATS[kind]()
    rng = np.random.default_rng(42)
    for i in range(25):
        data = bytearray(good)
        if i % 2:
            data = data[: int(rng.integers(1, len(good)))]
        else:
            for pos in rng.integers(0, len(data), 20):
                data[pos] ^= 0xFF
        try:
            decoded = decode_audio(bytes(data), **LIMITS)
        except AudioInputError as exc:
            assert exc.reason.startswith("AUDIO_")
        else:
            assert decoded.samples.dtype == np.float32
            assert np.isfinite(decoded.samples).all()
