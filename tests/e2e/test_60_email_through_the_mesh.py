"""E-mail guests through the whole mesh: the Gmail stand-in pushes to Envoy's public listener,
the gateway syncs, conversation answers with the PMS's offers, and the reply lands in the
guest's thread. Robots get nothing; forged pushes are refused; dropped pushes are swept up."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid

import pytest
from hotel.pms.v1 import pms_service_pb2 as pms_pb
from posada_common.testing import trusted_channel

from tests.e2e.conftest import RunningMesh
from tests.e2e.mail_client import HOTEL, MailGuest, body, import_raw, sent_to, standin_base
from tests.e2e.mesh_calls import find_bookings

pytestmark = pytest.mark.e2e

_CHOICE = re.compile(r"^\s*(\d{1,2})\.\s+(.+)$", re.M)


def guest(mesh: RunningMesh, name: str = "Ana García") -> MailGuest:
    return MailGuest(standin_base(mesh.mesh), f"guest.{uuid.uuid4().hex[:10]}@example.org", name)


def choices(text: str) -> list[tuple[int, str]]:
    return [(int(n), title.strip()) for n, title in _CHOICE.findall(text)]


def pick(text: str, *words: str) -> str:
    for number, title in choices(text):
        if any(w in title.lower() for w in words):
            return str(number)
    raise AssertionError(f"no choice with {words} in:\n{text}")


def availability(
    mesh: RunningMesh, check_in: tuple[int, int, int], check_out: tuple[int, int, int]
) -> list:
    import asyncio

    from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
    from hotel.type.v1 import date_pb2

    async def call() -> list:
        async with trusted_channel(mesh.mesh_address) as channel:
            stub = pms_grpc.PmsServiceStub(channel)
            resp = await stub.CheckAvailability(
                pms_pb.CheckAvailabilityRequest(
                    hotel_id="1",
                    check_in=date_pb2.Date(year=check_in[0], month=check_in[1], day=check_in[2]),
                    check_out=date_pb2.Date(
                        year=check_out[0], month=check_out[1], day=check_out[2]
                    ),
                    adults=2,
                    language="es",
                ),
                timeout=10,
            )
            return list(resp.offers)

    return asyncio.run(call())


def test_a_spanish_email_asking_for_availability_gets_the_pms_offers_in_the_thread(
    running_mesh: RunningMesh,
) -> None:
    ana = guest(running_mesh)
    year = time.gmtime().tm_year + 1
    reply = ana.turn(
        f"Hola, ¿tienen habitación doble del 10 al 12 de marzo de {year} para 2 adultos?",
        subject="Disponibilidad en marzo",
    )
    text = body(reply)
    assert reply["Subject"] == "Re: Disponibilidad en marzo"
    assert reply["In-Reply-To"] == ana.chain[0] and ana.chain[0] in str(reply["References"])
    assert text.startswith("Hola Ana:")
    assert "Posada Demo Hotel" in text and reply.get_body(preferencelist=("html",)) is not None
    offers = availability(running_mesh, (year, 3, 10), (year, 3, 12))
    assert offers, "the QloApps stand-in has rooms on these dates"
    assert choices(text), text
    flat = text.replace(".", "")  # "1.264,00 €" → "1264,00 €"
    named = [o for o in offers if o.room_type.name in text]
    assert named, text
    for offer in named:
        # The room the agent offers is quoted with the PMS's own total (tax included).
        minor = offer.total_tax_included.amount_minor
        assert f"{minor // 100},{minor % 100:02d}" in flat, (minor, text)


def test_a_booking_over_several_emails_in_one_thread_is_in_the_pms(
    running_mesh: RunningMesh,
) -> None:
    juan = guest(running_mesh, "Juan Pérez")
    year = time.gmtime().tm_year + 1
    text = body(juan.turn("Hola, quiero reservar una habitación", subject="Reserva"))
    text = body(juan.turn(f"del 12 al 14 de abril de {year}"))
    if any("adult" in t.lower() for _n, t in choices(text)) or "adult" in text.lower():
        answer = pick(text, "2") if choices(text) else "2 adultos"
        text = body(juan.turn(answer))
    assert choices(text), text
    text = body(juan.turn("1"))  # the first offer
    for _ in range(5):
        lowered = text.lower()
        if choices(text) and "confirm" in lowered:
            break
        if "nombre" in lowered:
            text = body(juan.turn("Juan Pérez"))
        elif "correo" in lowered or "email" in lowered or "e-mail" in lowered:
            text = body(juan.turn(juan.address))
        elif "teléfono" in lowered or "telefono" in lowered:
            text = body(juan.turn("+34 612 345 678"))
        else:
            break
    done = body(juan.turn(pick(text, "sí", "si,", "confirm")))
    match = re.search(r"\*([A-Za-z0-9-]+)\*", done)
    assert match, done
    bookings = find_bookings(running_mesh.mesh_address, match.group(1))
    assert len(bookings) == 1
    assert bookings[0].guest.email == juan.address
    assert len({r["Subject"] for r in juan.replies()}) == 1  # all in one thread


def test_html_only_forwarded_and_latin1_mail_are_understood(running_mesh: RunningMesh) -> None:
    base = standin_base(running_mesh.mesh)
    year = time.gmtime().tm_year + 1
    addr = f"outlook.{uuid.uuid4().hex[:8]}@example.org"
    html_only = (
        f"From: John Smith <{addr}>\r\nTo: {HOTEL}\r\nSubject: Room\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@outlook.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/html; charset="utf-8"\r\n\r\n'
        f"<html><body><p>Hi, do you have a double room from 10 to 12 May {year} for 2 adults?</p>"
        '<div id="divRplyFwdMsg"><b>From:</b> Hotel</div><div>Old text</div></body></html>\r\n'
    ).encode()
    latin = f"latin.{uuid.uuid4().hex[:8]}@example.org"
    latin1 = (
        f"From: =?iso-8859-1?Q?Jos=E9_Mu=F1oz?= <{latin}>\r\nTo: {HOTEL}\r\n"
        "Subject: =?iso-8859-1?Q?Habitaci=F3n?=\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@telefonica.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="iso-8859-1"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        f"Buenas tardes, =BFtienen habitaci=F3n doble del 3 al 5 de junio de {year} para dos adultos?\r\n"
    ).encode("ascii")
    fwd = f"fwd.{uuid.uuid4().hex[:8]}@example.org"
    forwarded = (
        f"From: Lena <{fwd}>\r\nTo: {HOTEL}\r\nSubject: Fwd: Zimmer\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@posteo.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n\r\n"
        "-------- Forwarded Message --------\r\nSubject: Zimmer\r\nFrom: Max <max@example.org>\r\n\r\n"
        f"Do you have a room for 2 adults from 20 to 22 July {year}?\r\n"
    ).encode()
    for raw in (html_only, latin1, forwarded):
        import_raw(base, raw)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not all(sent_to(base, a) for a in (addr, latin, fwd)):
        time.sleep(0.5)
    for address in (addr, latin, fwd):
        assert len(sent_to(base, address)) == 1, address


def test_auto_replies_bounces_and_list_mail_get_nothing(running_mesh: RunningMesh) -> None:
    base = standin_base(running_mesh.mesh)
    tag = uuid.uuid4().hex[:8]
    robots = {
        f"ana.{tag}@example.org": "Auto-Submitted: auto-replied\r\nSubject: Fuera de la oficina\r\n",
        f"mailer-daemon.{tag}@example.org": "Subject: Delivery Status Notification (Failure)\r\n",
        f"news.{tag}@example.org": f"List-Id: <news.{tag}.example.org>\r\nSubject: Newsletter\r\n",
    }
    for address, headers in robots.items():
        import_raw(
            base,
            (
                f"From: {address}\r\nTo: {HOTEL}\r\n{headers}Message-ID: <{uuid.uuid4().hex}@x>\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\nHola, ¿tienen habitación?\r\n"
            ).encode(),
        )
    person = guest(running_mesh)
    person.turn("Hola, ¿admiten mascotas?", subject="Mascotas")  # processed after the robots
    for address in robots:
        assert sent_to(base, address) == [], address


def test_a_push_with_a_bad_or_expired_token_is_refused_through_envoy(
    running_mesh: RunningMesh,
) -> None:
    base = standin_base(running_mesh.mesh)
    url = f"{running_mesh.public_url}/webhooks/gmail"
    envelope = {
        "message": {
            "data": "eyJlbWFpbEFkZHJlc3MiOiAieCIsICJoaXN0b3J5SWQiOiAxfQ==",
            "messageId": "1",
        },
        "subscription": "projects/posada-dev/subscriptions/gmail-inbound-push",
    }
    expired = _control(
        base, "/control/push-token", {"exp": int(time.time()) - 60, "iat": int(time.time()) - 3700}
    )
    wrong_aud = _control(base, "/control/push-token", {"aud": "https://elsewhere.example/push"})
    for auth in (
        "",
        "Bearer garbage",
        f"Bearer {expired['token']}",
        f"Bearer {wrong_aud['token']}",
    ):
        request = urllib.request.Request(
            url,
            data=json.dumps(envelope).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                **({"Authorization": auth} if auth else {}),
            },
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=10)
        assert err.value.code == 401, auth[:30]


def test_a_dropped_push_is_caught_by_the_sweep(running_mesh: RunningMesh) -> None:
    base = standin_base(running_mesh.mesh)
    _control(base, "/control/drop-pushes", {"count": 1})
    ana = guest(running_mesh)
    reply = ana.turn("Hola, ¿tienen cuna para bebé?", subject="Cuna", timeout=60)
    assert reply["In-Reply-To"] == ana.chain[0]
    stats = _control(base, "/control/pushes", None, method="GET")
    assert stats["dropped"] >= 1


def test_the_same_email_twice_gets_one_reply(running_mesh: RunningMesh) -> None:
    base = standin_base(running_mesh.mesh)
    address = f"twice.{uuid.uuid4().hex[:8]}@example.org"
    raw = (
        f"From: Pedro <{address}>\r\nTo: {HOTEL}\r\nSubject: Parking\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n¿Tienen parking?\r\n"
    ).encode()
    import_raw(base, raw)
    import_raw(base, raw)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not sent_to(base, address):
        time.sleep(0.3)
    barrier = guest(running_mesh)
    barrier.turn("¿Y tienen gimnasio?", subject="Gimnasio")
    assert len(sent_to(base, address)) == 1


def _control(base: str, path: str, body: dict | None, method: str = "POST") -> dict:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())
