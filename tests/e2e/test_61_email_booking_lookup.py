"""A booking made on WhatsApp is looked up by e-mail: the sender's address is the verification
(it must be the address the booking was made with), and the answer comes in the thread."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import RunningMesh
from tests.e2e.mail_client import MailGuest, body, standin_base
from tests.e2e.sim_client import Guest, choices_of, tap, text_of

pytestmark = pytest.mark.e2e


def _book_on_whatsapp(mesh: RunningMesh, email: str) -> str:
    guest = Guest(mesh.public_url, wa_id="3463" + str(uuid.uuid4().int)[:7], name="Lucía Gómez")
    assert guest.turn("hola")
    guest.turn("quiero reservar una habitacion")
    replies = guest.turn("del 20 al 22 de octubre")
    if any(c["id"].startswith("adults:") for r in replies for c in choices_of(r)):
        replies = tap(guest, replies, "adults:", prefer="adults:2")
    replies = tap(guest, replies, "offer:")
    guest.turn("Lucía Gómez")
    summary = guest.turn(email)
    done = tap(guest, summary, "confirm:yes")
    match = re.search(r"\*([A-Za-z0-9-]+)\*", " ".join(text_of(r) for r in done))
    assert match, [text_of(r) for r in done]
    return match.group(1)


def test_a_whatsapp_booking_is_found_by_email_from_the_booking_address(
    running_mesh: RunningMesh,
) -> None:
    address = f"lucia.{uuid.uuid4().hex[:8]}@example.org"
    reference = _book_on_whatsapp(running_mesh, address)
    base = standin_base(running_mesh.mesh)
    owner = MailGuest(base, address, "Lucía Gómez")
    text = body(owner.turn(f"Hola, ¿me confirman mi reserva {reference}?", subject="Mi reserva"))
    assert reference in text and "Lucía" in text.split("\n", 1)[0], text
    assert "octubre" in text.lower(), text
    # Someone else writing from another address is asked to verify, and gets no details.
    stranger = MailGuest(base, f"other.{uuid.uuid4().hex[:8]}@example.org", "Otro")
    other = body(stranger.turn(f"¿Estado de la reserva {reference}?", subject="Reserva"))
    assert "octubre" not in other.lower(), other
