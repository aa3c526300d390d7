"""Forms: the slots a task needs, checked in order, each with its own validation.

A form is data plus one pure function: given what the guest has said so far (the slots), it
returns the first slot that is missing or invalid, with the question to ask and the slots to
clear — or nothing, when the task can go to pms. Corrections need no special path: any turn may
change any slot (`merge_stay`), and the form is simply evaluated again.

Modelled on Rasa's FormAction/LoopAction (required slots, validate, request the next), in our
own terms and without its tracker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .parsing import parse_date

Slots = dict[str, Any]


@dataclass(frozen=True)
class Ask:
    """What the form wants next: the slot, the template that asks for it, slots to forget."""

    slot: str
    template: str
    clear: tuple[str, ...] = ()
    values: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Rule:
    slot: str
    check: Callable[[Slots, dt.date, FormLimits], Ask | None]


@dataclass(frozen=True)
class FormLimits:
    max_guests: int
    max_nights: int


def _check_in(query: Slots, today: dt.date, _: FormLimits) -> Ask | None:
    check_in = parse_date(query.get("check_in"))
    if not check_in:
        return Ask("check_in", "messages.ask_dates")
    if check_in < today:
        return Ask("check_in", "messages.date_in_past", clear=("check_in", "check_out"))
    return None


def _check_out(query: Slots, _today: dt.date, limits: FormLimits) -> Ask | None:
    check_in = parse_date(query.get("check_in"))
    check_out = parse_date(query.get("check_out"))
    if check_in and not check_out and query.get("nights"):
        check_out = check_in + dt.timedelta(days=int(query["nights"]))
        query["check_out"] = check_out.isoformat()
    if not check_out:
        return Ask("check_out", "messages.ask_check_out")
    if check_in and check_out <= check_in:
        return Ask("check_out", "messages.dates_out_of_order", clear=("check_out", "nights"))
    if check_in and (check_out - check_in).days > limits.max_nights:
        return Ask(
            "check_in",
            "messages.stay_too_long",
            clear=("check_out", "nights"),
            values=(("nights", (check_out - check_in).days), ("max", limits.max_nights)),
        )
    if check_in:
        query["nights"] = (check_out - check_in).days
    return None


def _adults(query: Slots, _today: dt.date, limits: FormLimits) -> Ask | None:
    if not query.get("adults"):
        return Ask("adults", "messages.ask_adults")
    if query["adults"] + query.get("children", 0) > limits.max_guests:
        return Ask(
            "adults",
            "messages.too_many_guests",
            clear=("adults",),
            values=(("max", limits.max_guests),),
        )
    return None


# The booking search (and the booking, which starts from it): dates first, then the party.
SEARCH_FORM = (Rule("check_in", _check_in), Rule("check_out", _check_out), Rule("adults", _adults))


def next_ask(
    form: tuple[Rule, ...], slots: Slots, today: dt.date, limits: FormLimits
) -> Ask | None:
    """The first slot to ask for (forgetting what it says to forget), or None: all valid."""
    for rule in form:
        ask = rule.check(slots, today, limits)
        if ask:
            for key in ask.clear:
                slots.pop(key, None)
            return ask
    return None
