"""Request validation: every problem of a request, by field, in one INVALID_ARGUMENT."""

from __future__ import annotations

import datetime as dt
import re
from datetime import UTC, datetime, timedelta

from hotel.type.v1 import date_pb2
from posada_common.errors import InvalidArgument

ID_RE = re.compile(r"^[1-9][0-9]{0,9}$")
# Stored as `posada:<key>` in the order's `source` (varchar 255) and used inside a QloApps
# filter, so no filter syntax characters ([ ] | , % ! < >) may appear in it.
IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
REFERENCE_RE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
NAME_RE = re.compile(r"^[^<>{}\[\]|=;#0-9]{1,60}$")
MAX_GUESTS = 20
# ISO 639-1 (two letters), optionally followed by BCP 47 subtags ("pt-BR"), which are ignored:
# QloApps keys its languages by the two-letter `iso_code`.
LANGUAGE_RE = re.compile(r"^([A-Za-z]{2})(?:[-_][A-Za-z0-9]{1,8})*$")


class Violations:
    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def add(self, field: str, description: str) -> None:
        self.items.setdefault(field, description)

    def raise_if_any(self, what: str = "invalid request") -> None:
        if self.items:
            fields = ", ".join(self.items)
            raise InvalidArgument(f"{what}: {fields}", field_violations=dict(self.items))

    def id(self, field: str, value: str, *, required: bool = True) -> str:
        value = (value or "").strip()
        if not value:
            if required:
                self.add(field, "is required")
            return ""
        if not ID_RE.match(value):
            self.add(field, "must be a positive integer id")
        return value

    def language(self, field: str, value: str) -> str:
        """An ISO 639-1 code, lower-cased; "" when empty (= the PMS default language)."""
        value = (value or "").strip()
        if not value:
            return ""
        match = LANGUAGE_RE.match(value)
        if match is None:
            self.add(field, "must be an ISO 639-1 language code such as es, en or pt")
            return ""
        return match.group(1).lower()

    def date(
        self, field: str, value: date_pb2.Date | None, *, required: bool = True
    ) -> dt.date | None:
        if value is None or (value.year == 0 and value.month == 0 and value.day == 0):
            if required:
                self.add(field, "is required")
            return None
        try:
            return dt.date(value.year, value.month, value.day)
        except ValueError:
            self.add(field, f"is not a calendar date: {value.year}-{value.month}-{value.day}")
            return None

    def stay(
        self,
        check_in: dt.date | None,
        check_out: dt.date | None,
        *,
        max_nights: int,
        max_advance_days: int,
        today: dt.date | None = None,
    ) -> None:
        # Guests anywhere: a date that is already "yesterday" in UTC may be today in the hotel.
        today = today or datetime.now(UTC).date()
        if check_in is not None:
            if check_in < today - timedelta(days=1):
                self.add("check_in", "must not be in the past")
            elif check_in > today + timedelta(days=max_advance_days):
                self.add("check_in", f"must be within {max_advance_days} days from today")
        if check_in is not None and check_out is not None:
            nights = (check_out - check_in).days
            if nights <= 0:
                self.add("check_out", "must be after check_in")
            elif nights > max_nights:
                self.add("check_out", f"stay must be at most {max_nights} nights")

    def guests(self, adults: int, children: int) -> None:
        if adults < 1:
            self.add("adults", "must be at least 1")
        if children < 0:
            self.add("children", "must not be negative")
        if adults + children > MAX_GUESTS:
            self.add("adults", f"at most {MAX_GUESTS} guests per booking")
