"""The same booking by voice: every sentence the guest speaks is a real voice note.

The guest's voice is eSpeak NG through the audio service (Synthesize, OGG/Opus like WhatsApp),
the agent hears it through faster-whisper (Transcribe). Buttons and list rows are tapped, and the
e-mail address is typed, as a guest on a phone would.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import RunningMesh
from tests.e2e.mesh_calls import find_bookings, synthesize_voice_note
from tests.e2e.sim_client import Guest, choices_of, tap, text_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SPOKEN = {
    "es": {
        "voice": "es",
        "lines": [
            "Hola, quiero hacer una reserva.",
            "Quiero reservar una habitación del quince al diecisiete de junio.",
        ],
        "name": "Me llamo Carlos Romero.",
    },
    "en": {
        "voice": "en-us",
        "lines": ["Hello, I would like to book a room.", "For June twentieth, two nights."],
        "name": "My name is Peter Brown.",
    },
}


def _speak(guest: Guest, mesh: RunningMesh, text: str, voice: str) -> list[dict]:
    return guest.voice_turn(synthesize_voice_note(mesh.mesh_address, text, voice))


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
        replies = tap(guest, replies, "adults:", prefer="adults:2")
    replies = tap(guest, replies, "offer:")
    _speak(guest, running_mesh, script["name"], script["voice"])
    email = f"voice.{uuid.uuid4().hex[:6]}@example.com"
    summary = guest.turn(email)
    assert any(c["id"] == "confirm:yes" for r in summary for c in choices_of(r)), [
        text_of(r) for r in summary
    ]
    done = tap(guest, summary, "confirm:yes")
    match = re.search(r"\*([A-Za-z0-9-]+)\*", " ".join(text_of(r) for r in done))
    assert match, [text_of(r) for r in done]

    bookings = find_bookings(running_mesh.mesh_address, match.group(1))
    assert len(bookings) == 1 and bookings[0].guest.email == email
    assert (bookings[0].check_in.month, bookings[0].check_out.month) == (6, 6)
