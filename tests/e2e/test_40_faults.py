"""Whole-mesh faults: after each one, nobody silenced, nothing lost, everything back by itself.

One shared set of guests writes while each fault is on (kill -9 of every service, of Envoy and
of PostgreSQL; Redis, PostgreSQL, nlp and audio paused for a few seconds; QloApps answering
503, answering slowly, losing the answer of a booking). After each fault:

- every message the mesh accepted is answered, and no reply is sent twice;
- every service is SERVING through Envoy again and `hotelctl up` still runs (the supervisor
  restarted what was killed);
- nobody is left in a fault handoff: a new message from every guest is answered by the agent
  (a handed-off conversation would stay silent);
- bookings: as many orders in the QloApps stand-in as bookings the guests made, no more.

Bounded: a handful of guests, one message each per fault, pauses of a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import RunningMesh
from tests.e2e.faults import Bench, new_guests, settle, wait_for
from tests.e2e.mesh_calls import synthesize_voice_note

pytestmark = pytest.mark.e2e
GUESTS = 10
PAUSE_SECONDS = 4.0


@pytest.fixture(scope="module")
def bench(running_mesh: RunningMesh) -> Iterator[Bench]:
    bench = Bench(running_mesh)
    yield bench
    bench.qlo_clear()


@pytest.fixture(scope="module")
def guests(bench: Bench) -> list[str]:
    wa_ids = new_guests(GUESTS)
    bench.assert_answered_exactly_once(bench.all_say(wa_ids, "hola"), "warm-up")
    return wa_ids


@pytest.fixture(scope="module")
def voice_note(running_mesh: RunningMesh) -> bytes:
    return synthesize_voice_note(
        running_mesh.mesh_address, "Hola, ¿tenéis aparcamiento en el hotel?", "es"
    )


def recovered(bench: Bench, guests: list[str], during: list[str], what: str) -> None:
    """What must hold after every fault."""
    bench.wait_serving()
    bench.assert_answered_exactly_once(during, what)
    follow_up = bench.all_say(guests, "¿a qué hora es el check-in?")
    bench.assert_answered_exactly_once(follow_up, f"{what}, follow-up")
    assert bench.mesh.proc.poll() is None, "hotelctl up stopped"


@pytest.mark.parametrize("service", ["gateway", "conversation", "nlp", "pms", "audio", "envoy"])
def test_kill_9_of_a_process_is_restarted_and_nobody_is_silenced(
    bench: Bench, guests: list[str], voice_note: bytes, service: str
) -> None:
    old = bench.kill9(service)
    during = bench.all_say(guests, "¿tenéis parking?")
    if service == "audio":
        during += [bench.voice(g, voice_note) for g in guests[:2]]
    bench.wait_restarted(service, old)
    recovered(bench, guests, during, f"kill -9 {service}")


def test_kill_9_of_postgres_is_restarted_and_nobody_is_silenced(
    bench: Bench, guests: list[str]
) -> None:
    old = bench.kill9("postgres")
    during = bench.all_say(guests, "¿tenéis wifi?")
    bench.wait_restarted("postgres", old)
    recovered(bench, guests, during, "kill -9 postgres")


@pytest.mark.parametrize("process", ["redis", "postgres", "nlp", "audio"])
def test_a_paused_process_costs_no_message(
    bench: Bench, guests: list[str], voice_note: bytes, process: str
) -> None:
    during: list[str] = []

    def while_paused() -> None:
        during.extend(bench.all_say(guests, "¿hay piscina?"))
        if process == "audio":
            during.extend(bench.voice(g, voice_note) for g in guests[:2])
        settle(PAUSE_SECONDS)()

    bench.pause(process, while_paused)
    recovered(bench, guests, during, f"{process} paused {PAUSE_SECONDS:.0f}s")


QLOAPPS_FAULTS: dict[str, dict[str, object]] = {
    "503": {"status": 503},
    "slow": {"latency_ms": 6000},
}


@pytest.mark.parametrize("fault", sorted(QLOAPPS_FAULTS))
def test_qloapps_misbehaving_for_a_few_seconds_costs_no_message(
    bench: Bench, guests: list[str], fault: str
) -> None:
    day = 10 + sorted(QLOAPPS_FAULTS).index(fault)  # dates nobody asked for: no cache hit
    bench.qlo_faults(**QLOAPPS_FAULTS[fault])
    try:
        # (March: always ahead, so the question reaches pms and QloApps)
        during = bench.all_say(guests, f"¿tenéis habitación del {day} al {day + 2} de marzo?")
        settle(PAUSE_SECONDS)()
    finally:
        bench.qlo_clear()
    recovered(bench, guests, during, f"QloApps {fault}")


def _choose(bodies: list[dict], prefix: str) -> dict[str, object]:
    """The tap on the first button or list row whose id starts with `prefix`."""
    for body in bodies:
        action = (body.get("interactive") or {}).get("action") or {}
        for b in action.get("buttons", []):
            if b["reply"]["id"].startswith(prefix):
                return {"type": "button_reply", "button_reply": dict(b["reply"])}
        for section in action.get("sections", []):
            for row in section.get("rows", []):
                if row["id"].startswith(prefix):
                    return {
                        "type": "list_reply",
                        "list_reply": {"id": row["id"], "title": row["title"]},
                    }
    raise AssertionError(f"no {prefix!r} choice in {bodies}")


def _to_confirmation(bench: Bench, wa_id: str, n: int) -> dict[str, object]:
    """Walk a guest to the booking summary; returns the 'yes, book it' tap."""

    def say(text: str) -> list[dict]:
        return bench.turn(wa_id, {"type": "text", "text": text})

    say("quiero reservar una habitación")
    bodies = say(f"del {3 + 3 * n} al {5 + 3 * n} de febrero")
    if any("adults:" in str(body) for body in bodies):
        bodies = bench.turn(wa_id, _choose(bodies, "adults:2"))
    bodies = bench.turn(wa_id, _choose(bodies, "offer:"))
    say("Marta Fallo")
    bodies = say(f"marta.{wa_id}@example.com")
    return _choose(bodies, "confirm:yes")


def test_a_lost_booking_answer_books_once_per_guest(bench: Bench, guests: list[str]) -> None:
    """QloApps commits the booking but the answer is lost: exactly one order per guest."""
    bookers = guests[:2]
    confirms = [_to_confirmation(bench, g, n) for n, g in enumerate(bookers)]
    before = bench.qlo_orders()
    bench.qlo_faults(
        drop_connection=True,
        after_commit=True,
        methods=["POST"],
        path_prefix="/api/bookings",
        count=len(bookers),
    )
    try:
        during = [bench.send(g, c) for g, c in zip(bookers, confirms, strict=True)]
        bench.assert_answered_exactly_once(during, "lost booking answers")
    finally:
        bench.qlo_clear()
    recovered(bench, guests, during, "QloApps lost booking answers")
    wait_for(
        lambda: bench.qlo_orders() == before + len(bookers),
        30,
        f"{len(bookers)} orders (got {bench.qlo_orders() - before})",
    )
    assert bench.qlo_orders() == before + len(bookers)  # and not more, once settled


def test_restart_counts_are_recorded_for_hotelctl_status(bench: Bench) -> None:
    processes = bench.mesh.state()["processes"]
    for name in ("gateway", "conversation", "nlp", "pms", "audio", "envoy", "postgres"):
        assert processes[name]["restarts"] >= 1, (name, processes[name])
        assert processes[name]["running"] is True
    log = bench.mesh.log()
    assert "restarted" in log and "exited" in log
