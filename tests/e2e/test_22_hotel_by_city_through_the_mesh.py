"""ISSUE-16 through the whole mesh: a guest names Buenos Aires and books there, in ARS.

WhatsApp simulator → Envoy → gateway → conversation (real nlp, pms, QloApps stand-in); the
booking is then looked up in the PMS and must belong to the Buenos Aires hotel.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import RunningMesh
from tests.e2e.mesh_calls import find_bookings
from tests.e2e.sim_client import Guest, choices_of, tap, text_of

pytestmark = pytest.mark.e2e

SCRIPTS = {
    "es": (
        "Hola, quiero reservar en el hotel de Buenos Aires del 10 al 12 de junio, somos 2",
        "Ana Ruiz",
    ),
    "en": (
        "Hi, I'd like a room at your Buenos Aires hotel from June 17 to 19 for 2 people",
        "Mary Smith",
    ),
    "pt": (
        "Olá, quero reservar no hotel de Buenos Aires de 24 a 26 de junho para 2 pessoas",
        "João Silva",
    ),
}


@pytest.mark.parametrize("language", ["es", "en", "pt"])
def test_guest_books_the_hotel_of_the_city_they_name(
    running_mesh: RunningMesh, language: str
) -> None:
    ask, name = SCRIPTS[language]
    guest = Guest(running_mesh.public_url, wa_id="5411" + str(uuid.uuid4().int)[:7], name=name)
    replies = guest.turn(ask)
    offers = " ".join(text_of(r) for r in replies)
    assert "San Telmo" in offers and "ARS" in offers and "€" not in offers, offers
    replies = tap(guest, replies, "offer:")
    guest.turn(name)
    email = f"guest.{uuid.uuid4().hex[:6]}@example.com"
    summary = guest.turn(email)
    summary_text = " ".join(text_of(r) for r in summary)
    assert "San Telmo" in summary_text and "Posada del Prado" not in summary_text, summary_text
    assert any(c["id"] == "confirm:yes" for r in summary for c in choices_of(r)), summary_text
    done = tap(guest, summary, "confirm:yes")
    text = " ".join(text_of(r) for r in done)
    match = re.search(r"\*([A-Z]{9})\*", text)
    assert match, text
    bookings = find_bookings(running_mesh.mesh_address, match.group(1))
    assert len(bookings) == 1 and bookings[0].hotel_id == "2", bookings
    assert bookings[0].total_tax_included.currency_code == "ARS"
