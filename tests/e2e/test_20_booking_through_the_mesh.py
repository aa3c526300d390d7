"""From "hola" to a confirmed booking in the QloApps stand-in, on WhatsApp, through Envoy.

Each guest taps the buttons and list rows the agent sends (as the simulator's chat page does)
and types the rest; the booking is then looked up in the PMS through the mesh.
"""

from __future__ import annotations

import re
import unicodedata
import uuid

import pytest
from hotel.pms.v1 import pms_service_pb2 as pms_pb

from tests.e2e.conftest import RunningMesh
from tests.e2e.mesh_calls import find_bookings, synthesize_voice_note
from tests.e2e.sim_client import Guest, choices_of, tap, text_of

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
        replies = tap(guest, replies, "adults:", prefer="adults:2")
    replies = tap(guest, replies, "offer:")
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
    done = tap(guest, summary, "confirm:yes")
    text = " ".join(text_of(r) for r in done)
    match = re.search(r"\*([A-Za-z0-9-]+)\*", text)
    assert match, text
    bookings = find_bookings(running_mesh.mesh_address, match.group(1))
    assert len(bookings) == 1
    assert bookings[0].guest.email == email
    assert bookings[0].status == pms_pb.BOOKING_STATUS_CONFIRMED


def test_voice_note_is_transcribed_and_answered(running_mesh: RunningMesh) -> None:
    note = synthesize_voice_note(
        running_mesh.mesh_address,
        "Hola, quiero reservar una habitación doble para el fin de semana.",
        "es",
    )
    assert note[:4] == b"OggS"
    guest = Guest(
        running_mesh.public_url, wa_id="3463" + str(uuid.uuid4().int)[:7], name="Carmen Ruiz"
    )
    replies = guest.voice_turn(note)
    text = " ".join(text_of(r) for r in replies).lower()
    assert replies, "no answer to the voice note"
    assert "escrib" not in text, f"the agent could not understand the voice note: {text}"
