"""QloApps JSON → the pms domain's values: categories, amenities, policies, statuses, dates.

Everything here is pure (no I/O), tolerant of QloApps' typing (numbers or strings, `""` for
NULL ids) and tested without a server.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from typing import Any

from hotel.pms.v1 import pms_service_pb2 as pms  # enum numbers only (categories, topics...)
from posada_common.phones import digits as digits
from posada_common.phones import same_phone

from posada_pms.model import Policy

# --- scalars -------------------------------------------------------------------------------


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def as_float(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def as_str(value: Any) -> str:
    """i18n fields come as a plain string with `language=N`, else as [{"id","value"}]."""
    if value is None:
        return ""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item.get("value"):
                return str(item["value"])
        return ""
    return str(value)


def assoc_ids(obj: dict[str, Any], name: str) -> list[str]:
    items = (obj.get("associations") or {}).get(name) or []
    if isinstance(items, dict):
        items = [items]
    return [
        str(i.get("id")) for i in items if isinstance(i, dict) and i.get("id") not in (None, "")
    ]


def unwrap(items: Any, inner: str) -> list[Any]:
    """A list that may come XML-style wrapped (`{"room": [...]}`) or as one bare object."""
    if isinstance(items, dict):
        items = items.get(inner) or [items]
    if not items:
        return []
    return items if isinstance(items, list) else [items]


def strip_html(text: str) -> str:
    text = re.sub(r"<\s*(br|/p|/li|/div|/h\d)\s*/?>", "\n", text, flags=re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text)
    lines = [re.sub(r"[ \t]+", " ", line).strip(" \t-•*") for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def parse_qlo_date(value: Any) -> date | None:
    text = str(value or "")[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_timestamp(value: Any) -> datetime | None:
    # QloApps stores shop-local wall time without a zone; we read it as UTC, which is exact
    # for UTC shops and off by the shop's offset otherwise (documented in the proto comment).
    text = str(value or "")
    try:
        return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


# --- room categories -------------------------------------------------------------------------

_CATEGORY_WORDS = [
    (pms.ROOM_CATEGORY_SUITE, ("suite",)),
    (pms.ROOM_CATEGORY_FAMILY, ("family", "familiar", "familia", "cuádruple", "quadruple")),
    (pms.ROOM_CATEGORY_TWIN, ("twin", "dos camas", "duas camas", "2 camas")),
    (pms.ROOM_CATEGORY_SINGLE, ("single", "individual", "solteiro", "sencilla")),
    (pms.ROOM_CATEGORY_DOUBLE, ("double", "doble", "matrimonial", "casal", "duplo")),
]


def room_category(name: str, max_adults: int, max_guests: int) -> int:
    lowered = name.lower()
    for category, words in _CATEGORY_WORDS:
        if any(w in lowered for w in words):
            return category
    if max_adults <= 1:
        return pms.ROOM_CATEGORY_SINGLE
    if max_guests >= 4:
        return pms.ROOM_CATEGORY_FAMILY
    return pms.ROOM_CATEGORY_DOUBLE


# --- amenities ---------------------------------------------------------------------------------

_AMENITY_WORDS = {
    "wifi": ("wifi", "wi-fi", "internet"),
    "parking": ("parking", "aparcamiento", "estacionamiento", "garage", "garaje", "cochera"),
    "pool": ("pool", "piscina", "pileta"),
    "breakfast": ("breakfast", "desayuno", "café da manhã"),
    "gym": ("gym", "gimnasio", "fitness", "academia"),
    "spa": ("spa", "sauna", "massage", "masaje"),
    "restaurant": ("restaurant", "restaurante"),
    "airport_shuttle": ("airport", "aeropuerto", "aeroporto", "shuttle", "traslado", "transfer"),
    "air_conditioning": (
        "air condition",
        "air-condition",
        "aire acondicionado",
        "ar condicionado",
        "a/c",
    ),
}


def amenity_values(names: list[str]) -> list[str]:
    """Feature names (any language) → the catalogue values the agent knows, in catalogue order."""
    found: set[str] = set()
    for name in names:
        lowered = name.lower()
        for value, words in _AMENITY_WORDS.items():
            if any(w in lowered for w in words):
                found.add(value)
    return [v for v in _AMENITY_WORDS if v in found]


# --- policies -------------------------------------------------------------------------------------

# English, Spanish and Portuguese word starts (regex fragments, matched at the start of a word:
# "cancel" finds "cancelación"); topics are tried in this order, the first match wins. "pet" must
# be the whole word, or the Spanish "bajo petición" would read as a pet policy.
_POLICY_WORDS = [
    (
        pms.POLICY_TOPIC_PETS,
        (
            r"pets?\b",
            "mascota",
            "dog",
            "perro",
            "animal",
            "animais",
            "estimação",
            "cachorro",
            "cães",
        ),
    ),
    (pms.POLICY_TOPIC_CANCELLATION, ("cancel", "refund", "reembolso", "no-show", "no show")),
    (pms.POLICY_TOPIC_SMOKING, ("smok", "fumar", "fumo", "fumante", "tabaco", "cigar")),
    (
        pms.POLICY_TOPIC_CHILDREN,
        (
            "child",
            "niño",
            "nino",
            "menor",
            "kid",
            "infant",
            "cuna",
            "crib",
            "bebé",
            "bebê",
            "criança",
            "berço",
        ),
    ),
    (
        pms.POLICY_TOPIC_PAYMENT,
        (
            "pay",
            "pago",
            "card",
            "tarjeta",
            "cash",
            "efectivo",
            "deposit",
            "depósito",
            "pagamento",
            "cartão",
            "dinheiro",
        ),
    ),
    (pms.POLICY_TOPIC_CHECK_OUT, ("check-out", "check out", "checkout", "salida")),
    (
        pms.POLICY_TOPIC_CHECK_IN,
        ("check-in", "check in", "checkin", "entrada", "llegada", "arrival"),
    ),
]


_POLICY_PATTERNS = [
    (topic, re.compile(r"\b(?:" + "|".join(words) + ")")) for topic, words in _POLICY_WORDS
]


def classify_policy(text: str) -> int:
    lowered = text.lower()
    for topic, pattern in _POLICY_PATTERNS:
        if pattern.search(lowered):
            return topic
    return pms.POLICY_TOPIC_OTHER


def policies(
    policy_html: str, check_in: str, check_out: str, refund_texts: list[str]
) -> list[Policy]:
    out: list[Policy] = []
    for line in strip_html(policy_html).splitlines():
        out.append(Policy(topic=classify_policy(line), text=line))
    topics = {p.topic for p in out}
    if pms.POLICY_TOPIC_CHECK_IN not in topics and check_in:
        out.insert(0, Policy(topic=pms.POLICY_TOPIC_CHECK_IN, text=f"Check-in from {check_in}."))
    if pms.POLICY_TOPIC_CHECK_OUT not in topics and check_out:
        out.insert(
            1 if out else 0,
            Policy(topic=pms.POLICY_TOPIC_CHECK_OUT, text=f"Check-out until {check_out}."),
        )
    if pms.POLICY_TOPIC_CANCELLATION not in topics:
        for text in refund_texts:
            if text:
                out.append(Policy(topic=pms.POLICY_TOPIC_CANCELLATION, text=text))
    return out


# --- time zones (QloApps has no such field) ----------------------------------------------------

COUNTRY_TIME_ZONES = {
    "AR": "America/Argentina/Buenos_Aires", "BO": "America/La_Paz", "BR": "America/Sao_Paulo",
    "CL": "America/Santiago", "CO": "America/Bogota", "CR": "America/Costa_Rica",
    "DE": "Europe/Berlin", "DO": "America/Santo_Domingo", "EC": "America/Guayaquil",
    "ES": "Europe/Madrid", "FR": "Europe/Paris", "GB": "Europe/London", "IT": "Europe/Rome",
    "MX": "America/Mexico_City", "PE": "America/Lima", "PT": "Europe/Lisbon",
    "PY": "America/Asuncion", "UY": "America/Montevideo", "VE": "America/Caracas",
}  # fmt: skip


# --- bookings -----------------------------------------------------------------------------------

# Installer defaults (docs/external-apis/qloapps.md#orders-and-states); a live shop may renumber them.
ORDER_STATE_CANCELED = 4
ORDER_STATE_REFUNDED = 5
ORDER_STATE_PAYMENT_ERROR = 6


def booking_status(current_state: int, room_statuses: list[int]) -> int:
    if current_state == ORDER_STATE_CANCELED:
        return pms.BOOKING_STATUS_CANCELLED
    if current_state == ORDER_STATE_REFUNDED:
        return pms.BOOKING_STATUS_REFUNDED
    if current_state == ORDER_STATE_PAYMENT_ERROR:
        return pms.BOOKING_STATUS_PENDING
    if room_statuses and all(status == 3 for status in room_statuses):
        return pms.BOOKING_STATUS_CHECKED_OUT
    if any(status in (2, 3) for status in room_statuses):
        return pms.BOOKING_STATUS_CHECKED_IN
    # "Awaiting payment" included: with pay-at-hotel the rooms are held, the stay is booked.
    return pms.BOOKING_STATUS_CONFIRMED


def phones_match(a: str, b: str) -> bool:
    """Same phone despite formatting (a PMS search, so 8 significant digits are enough)."""
    return same_phone(a, b, min_significant=8)
