"""Entry point of the audio service: wires the servicer into the common server skeleton.

`register` is fast (servicer only); `warmup` assembles the bundled Whisper model if needed and
loads it once per process, so `hotel.audio.v1.AudioService` health stays NOT_SERVING until the
model answers. Message limits are raised to the audio limit plus envelope (16 MB + 1 MiB).
"""

from __future__ import annotations

from hotel.audio.v1 import audio_service_pb2, audio_service_pb2_grpc
from posada_common.logging import get_logger
from posada_common.server import ServiceRuntime, run_service
from posada_common.settings import load_settings

from posada_audio.service import AudioEngine
from posada_audio.servicer import AudioServicer
from posada_audio.settings import AudioSettings

SERVICE_NAME = audio_service_pb2.DESCRIPTOR.services_by_name["AudioService"].full_name
log = get_logger(__name__)


def server_options(settings: AudioSettings) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
    ]


async def register(rt: ServiceRuntime) -> None:
    settings = rt.settings
    assert isinstance(settings, AudioSettings)
    engine = AudioEngine(settings)
    rt.state["audio_engine"] = engine
    audio_service_pb2_grpc.add_AudioServiceServicer_to_server(AudioServicer(engine), rt.server)
    rt.add_cleanup(engine.close)


async def warmup(rt: ServiceRuntime) -> None:
    engine: AudioEngine = rt.state["audio_engine"]
    await engine.load()
    t = engine.transcriber
    log.info(
        "speech_model_loaded",
        model=t.model_name,
        model_dir=str(t.model_dir),
        cpu_threads=t.cpu_threads,
        max_concurrent=t.max_concurrent,
        max_queue=t.max_queue,
    )


def main() -> None:
    settings = load_settings(AudioSettings)
    run_service(
        settings,
        service_names=[SERVICE_NAME],
        register=register,
        warmup=warmup,
        server_options=server_options(settings),
    )


if __name__ == "__main__":
    main()
