"""From "hola" to a confirmed booking in the QloApps stand-in, on WhatsApp, through Envoy.

Each guest taps the buttons and list rows the agent sends (as the simulator's chat page does)
and types the rest; the booking is then looked up in the PMS through the mesh.
"""

from __future__ import annotations

import asyncio
import base64
import re
import unicodedata
import uuid

import pytest
from hotel.audio.v1 import audio_service_pb2 as audio_pb
from hotel.audio.v1 import audio_service_pb2_grpc as audio_grpc
from hotel.pms.v1 import pms_service_pb2 as pms_pb
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from posada_common.clients import dial

from tests.e2e.conftest import RunningMesh
from tests.e2e.sim_client import Guest, choices_of, text_of

pytestmark = pytest.mark.e2e

SCRIPTS = {
    "es": {
        "hello": "hola",
        "book": "quiero reservar una habitacion",
        "dates": "del 12 al 14 de marzo",
        "name": "Juan Pérez",
        "yes": "sí",
    },
    "en": {
        "hello": "hi there",
        "book": "I'd like to book a room please",
        "dates": "from April 20 to 22",
        "name": "Mary Smith",
        "yes": "yes",
    },
    "pt": {
        "hello": "olá, bom dia",
        "book": "quero reservar um quarto",
        "dates": "de 5 a 7 de maio",
        "name": "João Silva",
        "yes": "sim",
    },
}


def _tap(guest: Guest, replies: list[dict], prefix: str, prefer: str = "") -> list[dict]:
    options = [c for r in replies for c in choices_of(r) if c["id"].startswith(prefix)]
    assert options, f"no {prefix!r} choice in {[text_of(r) for r in replies]}"
    choice = next((c for c in options if prefer and prefer in c["id"]), options[0])
    spec = {"type": choice["kind"], choice["kind"]: {"id": choice["id"], "title": choice["title"]}}
    return guest.turn(spec=spec)


def _find_booking(mesh: RunningMesh, reference: str) -> list[pms_pb.Booking]:
    async def find() -> list[pms_pb.Booking]:
        async with dial(mesh.mesh_address) as channel:
            reply = await pms_grpc.PmsServiceStub(channel).FindBookings(
                pms_pb.FindBookingsRequest(reference=reference), timeout=10
            )
            return list(reply.bookings)

    return asyncio.run(find())


@pytest.mark.parametrize("language", ["es", "en", "pt"])
def test_guest_books_from_hello_to_a_reference_in_the_pms(
    running_mesh: RunningMesh, language: str
) -> None:
    script = SCRIPTS[language]
    guest = Guest(
        running_mesh.public_url, wa_id="3462" + str(uuid.uuid4().int)[:7], name=script["name"]
    )
    assert guest.turn(script["hello"])
    replies = guest.turn(script["book"])
    replies = guest.turn(script["dates"])
    if any(c["id"].startswith("adults:") for r in replies for c in choices_of(r)):
        replies = _tap(guest, replies, "adults:", prefer="adults:2")
    replies = _tap(guest, replies, "offer:")
    name_prompt = " ".join(text_of(r) for r in replies)
    assert name_prompt
    guest.turn(script["name"])
    first = (
        unicodedata.normalize("NFKD", script["name"].split()[0].lower())
        .encode("ascii", "ignore")
        .decode()
    )
    email = f"{first}.{uuid.uuid4().hex[:6]}@example.com"
    summary = guest.turn(email)
    assert any(c["id"] == "confirm:yes" for r in summary for c in choices_of(r)), [
        text_of(r) for r in summary
    ]
    done = _tap(guest, summary, "confirm:yes")
    text = " ".join(text_of(r) for r in done)
    match = re.search(r"\*([A-Za-z0-9-]+)\*", text)
    assert match, text
    bookings = _find_booking(running_mesh, match.group(1))
    assert len(bookings) == 1
    assert bookings[0].guest.email == email
    assert bookings[0].status == pms_pb.BOOKING_STATUS_CONFIRMED


def test_voice_note_is_transcribed_and_answered(running_mesh: RunningMesh) -> None:
    async def synthesize() -> bytes:
        async with dial(running_mesh.mesh_address) as channel:
            reply = await audio_grpc.AudioServiceStub(channel).Synthesize(
                audio_pb.SynthesizeRequest(
                    text="Hola, quiero reservar una habitación doble para el fin de semana.",
                    voice="es",
                    format=audio_pb.AUDIO_FORMAT_OGG_OPUS,
                ),
                timeout=60,
            )
            return reply.audio

    note = asyncio.run(synthesize())
    assert note[:4] == b"OggS"
    guest = Guest(
        running_mesh.public_url, wa_id="3463" + str(uuid.uuid4().int)[:7], name="Carmen Ruiz"
    )
    replies = guest.turn(
        spec={
            "type": "voice",
            "audio": {
                "data_base64": base64.b64encode(note).decode(),
                "mime_type": "audio/ogg; codecs=opus",
            },
        },
        timeout=90,
    )
    text = " ".join(text_of(r) for r in replies).lower()
    assert replies, "no answer to the voice note"
    assert "escrib" not in text, f"the agent could not understand the voice note: {text}"
