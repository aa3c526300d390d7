"""The same booking by voice: every sentence the guest speaks is a real voice note.

The guest's voice is eSpeak NG through the audio service (Synthesize, OGG/Opus like WhatsApp),
the agent hears it through faster-whisper (Transcribe). Buttons and list rows are tapped, and the
e-mail address is typed, as a guest on a phone would.
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid

import pytest
from hotel.audio.v1 import audio_service_pb2 as audio_pb
from hotel.audio.v1 import audio_service_pb2_grpc as audio_grpc
from hotel.pms.v1 import pms_service_pb2 as pms_pb
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from posada_common.clients import dial

from tests.e2e.conftest import RunningMesh
from tests.e2e.sim_client import Guest, choices_of, text_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SPOKEN = {
    "es": {
        "voice": "es",
        "lines": [
            "Hola, quiero hacer una reserva.",
            "Quiero reservar una habitación para el quince de junio, dos noches.",
        ],
        "name": "Me llamo Carlos Romero.",
    },
    "en": {
        "voice": "en-us",
        "lines": ["Hello, I would like to book a room.", "For June twentieth, two nights."],
        "name": "My name is Peter Brown.",
    },
}


def _synthesize(mesh: RunningMesh, text: str, voice: str) -> bytes:
    async def call() -> bytes:
        async with dial(mesh.mesh_address) as channel:
            reply = await audio_grpc.AudioServiceStub(channel).Synthesize(
                audio_pb.SynthesizeRequest(
                    text=text, voice=voice, format=audio_pb.AUDIO_FORMAT_OGG_OPUS
                ),
                timeout=60,
            )
            return reply.audio

    return asyncio.run(call())


def _speak(guest: Guest, mesh: RunningMesh, text: str, voice: str) -> list[dict]:
    note = _synthesize(mesh, text, voice)
    spec = {
        "type": "voice",
        "audio": {
            "data_base64": base64.b64encode(note).decode(),
            "mime_type": "audio/ogg; codecs=opus",
        },
    }
    return guest.turn(spec=spec, timeout=90)


def _tap(guest: Guest, replies: list[dict], prefix: str, prefer: str = "") -> list[dict]:
    options = [c for r in replies for c in choices_of(r) if c["id"].startswith(prefix)]
    assert options, f"no {prefix!r} choice in {[text_of(r) for r in replies]}"
    choice = next((c for c in options if prefer and prefer in c["id"]), options[0])
    return guest.turn(
        spec={
            "type": choice["kind"],
            choice["kind"]: {"id": choice["id"], "title": choice["title"]},
        }
    )


@pytest.mark.parametrize("language", ["es", "en"])
def test_guest_books_by_voice_notes(running_mesh: RunningMesh, language: str) -> None:
    script = SPOKEN[language]
    guest = Guest(
        running_mesh.public_url, wa_id="3465" + str(uuid.uuid4().int)[:7], name="Voice Guest"
    )
    replies: list[dict] = []
    for line in script["lines"]:
        replies = _speak(guest, running_mesh, line, script["voice"])
        assert replies, f"no answer to the voice note {line!r}"
    if any(c["id"].startswith("adults:") for r in replies for c in choices_of(r)):
        replies = _tap(guest, replies, "adults:", prefer="adults:2")
    replies = _tap(guest, replies, "offer:")
    _speak(guest, running_mesh, script["name"], script["voice"])
    email = f"voice.{uuid.uuid4().hex[:6]}@example.com"
    summary = guest.turn(email)
    assert any(c["id"] == "confirm:yes" for r in summary for c in choices_of(r)), [
        text_of(r) for r in summary
    ]
    done = _tap(guest, summary, "confirm:yes")
    match = re.search(r"\*([A-Za-z0-9-]+)\*", " ".join(text_of(r) for r in done))
    assert match, [text_of(r) for r in done]

    async def find() -> list[pms_pb.Booking]:
        async with dial(running_mesh.mesh_address) as channel:
            reply = await pms_grpc.PmsServiceStub(channel).FindBookings(
                pms_pb.FindBookingsRequest(reference=match.group(1)), timeout=10
            )
            return list(reply.bookings)

    bookings = asyncio.run(find())
    assert len(bookings) == 1 and bookings[0].guest.email == email
    assert (bookings[0].check_in.month, bookings[0].check_out.month) == (6, 6)
