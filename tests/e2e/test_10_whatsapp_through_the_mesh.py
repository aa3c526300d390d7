"""A guest on WhatsApp, end to end: simulator → Envoy → gateway → conversation → nlp/pms → back."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.e2e.conftest import RunningMesh
from tests.e2e.sim_client import Guest, text_of

pytestmark = pytest.mark.e2e


def _guest(mesh: RunningMesh, name: str = "Lucía Gómez") -> Guest:
    return Guest(mesh.public_url, wa_id="3461" + str(uuid.uuid4().int)[:7], name=name)


def test_hola_gets_a_spanish_reply_through_the_whole_mesh(running_mesh: RunningMesh) -> None:
    guest = _guest(running_mesh)
    replies = guest.turn("hola")
    assert replies, "the agent never answered"
    text = " ".join(text_of(r) for r in replies).lower()
    assert any(word in text for word in ("hola", "bienvenid", "ayud")), text


def test_duplicate_webhook_delivery_is_answered_once(running_mesh: RunningMesh) -> None:
    guest = _guest(running_mesh)
    wamid = f"wamid.e2e-dup-{uuid.uuid4().hex}"
    since = guest.last_seq()
    first = guest.say("hola", id=wamid)
    second = guest.say("hola", id=wamid)
    assert first["delivery"]["status"] == 200
    assert second["delivery"]["status"] == 200
    replies = guest.replies_after(since, settle=3.0)
    once = len(replies)
    assert once >= 1
    time.sleep(2)
    assert len([e for e in guest.outbox(since) if e.get("type") not in (None, "read")]) == once


def test_english_guest_gets_an_english_answer(running_mesh: RunningMesh) -> None:
    guest = _guest(running_mesh, "John Smith")
    text = " ".join(text_of(r) for r in guest.turn("hi there, do you have a pool?")).lower()
    assert text
    assert "pool" in text or "swimming" in text, text
