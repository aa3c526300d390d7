"""gRPC calls the e2e tests make through Envoy's mesh listener (to check or to prepare)."""

from __future__ import annotations

import asyncio

from hotel.audio.v1 import audio_service_pb2 as audio_pb
from hotel.audio.v1 import audio_service_pb2_grpc as audio_grpc
from hotel.pms.v1 import pms_service_pb2 as pms_pb
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from posada_common.clients import dial


def find_bookings(mesh_address: str, reference: str) -> list[pms_pb.Booking]:
    async def call() -> list[pms_pb.Booking]:
        async with dial(mesh_address, identity="console") as channel:
            reply = await pms_grpc.PmsServiceStub(channel).FindBookings(
                pms_pb.FindBookingsRequest(reference=reference), timeout=10
            )
            return list(reply.bookings)

    return asyncio.run(call())


def synthesize_voice_note(mesh_address: str, text: str, voice: str) -> bytes:
    """OGG/Opus speech from the audio service, shaped like a WhatsApp voice note."""

    async def call() -> bytes:
        async with dial(mesh_address, identity="conversation") as channel:
            reply = await audio_grpc.AudioServiceStub(channel).Synthesize(
                audio_pb.SynthesizeRequest(
                    text=text, voice=voice, format=audio_pb.AUDIO_FORMAT_OGG_OPUS
                ),
                timeout=60,
            )
            return reply.audio

    return asyncio.run(call())
