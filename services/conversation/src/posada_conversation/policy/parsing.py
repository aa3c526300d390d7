"""Reading guest text: folding, numbers, yes/no, references and stay entities.

Pure functions with no pms or session access, so every flow parses a message the same way
(a "sí" confirms a booking exactly as it confirms a cancellation).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from .records import CATEGORY
from .state import Understanding

QUERY_ENTITIES = (
    "check_in",
    "check_out",
    "nights",
    "extra_nights",
    "add_children",
    "adults",
    "children",
    "room_type",
)
# Questions about the hotel: answered wherever they come, then the open form resumes.
FAQ_INTENTS = {"ask_amenities", "ask_policies", "ask_location"}
# "I don't have it", "no lo tengo", "não tenho": the guest lacks what was asked for.
_LACKS = re.compile(
    r"\b(?:(?:i\s+)?(?:don'?t|do\s+not|dont)\s+(?:have|know|remember)|no\s+(?:lo\s+|la\s+)?"
    r"(?:tengo|se|recuerdo|encuentro)|nao\s+(?:o\s+|a\s+)?(?:tenho|sei|lembro|encontro)|"
    r"lost\s+it|(?:lo|la)\s+perdi|perdi\s+o|sin\s+numero|sem\s+numero|no\s+number)\b"
)
INTERRUPTING = {
    "greeting",
    "goodbye",
    "thanks",
    "cancel_reservation",
    "modify_reservation",
    "reservation_status",
    "ask_amenities",
    "ask_location",
    "ask_policies",
    "late_checkout",
    "service_request",
    "request_human",
}
YES = {
    "si",
    "sí",
    "yes",
    "sim",
    "ok",
    "okay",
    "vale",
    "claro",
    "confirmo",
    "confirm",
    "yep",
    "dale",
    "perfecto",
    "isso",
}
NO = {"no", "não", "nao", "nope", "nop", "nah"}
NUMBER_WORDS = {
    "un": 1,
    "uno": 1,
    "una": 1,
    "one": 1,
    "um": 1,
    "uma": 1,
    "dos": 2,
    "two": 2,
    "dois": 2,
    "duas": 2,
    "tres": 3,
    "três": 3,
    "three": 3,
    "cuatro": 4,
    "four": 4,
    "quatro": 4,
    "cinco": 5,
    "five": 5,
    "seis": 6,
    "six": 6,
}
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
REFERENCE = re.compile(r"#?\b([A-Z]{2,4}-\d{3,}|\d{4,}|[A-Z]{9})\b")


def fold(text: str) -> str:
    """Lower-cased without accents, so "Sí", "si" and "SI" compare equal."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch)
    )


def _words(text: str) -> list[str]:
    return re.findall(r"[\wáéíóúâêôãõçñü@.+-]+", text.lower())


def bare_number(text: str) -> int | None:
    words = _words(text)
    for word in words:
        if word.isdigit() and len(word) <= 2:
            return int(word)
        if word in NUMBER_WORDS:
            return NUMBER_WORDS[word]
    return None


def yes_no(understanding: Understanding, threshold: float) -> str:
    """'yes', 'no' or '' from the intent, or an unambiguous one-word answer."""
    words = [fold(w).strip(".!¡¿?,") for w in understanding.text.split()]
    if understanding.intent == "affirm" and understanding.confidence >= threshold:
        return "yes"
    if understanding.intent == "deny" and understanding.confidence >= threshold:
        return "no"
    if words and len(words) <= 3:
        if words[0] in {fold(w) for w in YES}:
            return "yes"
        if words[0] in {fold(w) for w in NO}:
            return "no"
    return ""


def parse_date(value: str | None) -> dt.date | None:
    """An ISO date from nlp or the session, or None when missing or malformed."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def merge_stay(base: dict[str, Any], understanding: Understanding) -> dict[str, Any]:
    """Applies the stay entities of a message to a query ("¿y del 12 al 14?", "¿y para 3?")."""
    query = dict(base)
    check_in, check_out = (
        parse_date(understanding.first("check_in")),
        parse_date(understanding.first("check_out")),
    )
    nights = understanding.first("nights")
    old_ci, old_co = parse_date(query.get("check_in")), parse_date(query.get("check_out"))
    if check_in:
        query["check_in"] = check_in.isoformat()
        if not check_out and not nights:
            if old_ci and old_co and old_co > old_ci:
                query["check_out"] = (
                    check_in + (old_co - old_ci)
                ).isoformat()  # same length of stay
            else:
                query.pop("check_out", None)
    if check_out:
        query["check_out"] = check_out.isoformat()
    if nights and nights.isdigit() and int(nights) > 0:
        query["nights"] = int(nights)
        start = parse_date(query.get("check_in"))
        if start and not check_out:
            query["check_out"] = (start + dt.timedelta(days=int(nights))).isoformat()
    adults = understanding.first("adults")
    if adults.isdigit() and int(adults) > 0:
        query["adults"] = int(adults)
    children = understanding.first("children")
    if children.isdigit():
        query["children"] = int(children)
    room_type = understanding.first("room_type")
    if room_type in CATEGORY:
        query["room_type"] = room_type
        if room_type == "single" and not query.get("adults"):
            query["adults"] = 1  # a single room is one guest
    added = understanding.first("add_children")
    if added.isdigit() and int(added) > 0:
        if "adults" in query or "children" in query:
            query["children"] = int(query.get("children", 0)) + int(added)
        else:
            query["add_children"] = int(added)  # relative to a booking the caller knows
    extra = understanding.first("extra_nights")
    if extra.isdigit() and int(extra) > 0 and not check_out:
        end = parse_date(query.get("check_out"))
        if end:
            query["check_out"] = (end + dt.timedelta(days=int(extra))).isoformat()
            query.pop("nights", None)
        else:
            query["extra_nights"] = int(extra)  # relative to a booking the caller knows
    return query


_CLAUSE_END = re.compile(r"(?<=[?!.;])\s+|\n+|\s+(?=¿)")
_LEADING = re.compile(
    r"^(?P<q>¿)?\s*(?:and|also|plus|oh|y|e|ah|tambien|também|además|ademas|otra cosa|another thing|"
    r"outra coisa)\b[\s,:]*",
    re.IGNORECASE,
)


def split_clauses(text: str) -> list[str]:
    """The questions/sentences of a message, in order ("Is breakfast included? And parking?").

    Empty when the message is a single clause, so callers parse it once as a whole.
    """
    parts = [_LEADING.sub(r"\g<q>", p.strip()).strip() for p in _CLAUSE_END.split(text)]
    clauses = [p for p in parts if len(p.split()) >= 2 or p.endswith("?")]
    return clauses if len(clauses) >= 2 else []


def lacks(understanding: Understanding) -> bool:
    """The guest says they don't have (know, remember) what they were asked for."""
    return bool(_LACKS.search(fold(understanding.text)))


def has_stay_entities(understanding: Understanding) -> bool:
    return any(understanding.entities.get(k) for k in QUERY_ENTITIES)
