"""Helpers shared by the pms tests (a module with a unique name, importable from tests)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from hotel.type.v1 import date_pb2

_offsets = itertools.count(40, 7)


def fresh_stay(nights: int = 2) -> tuple[date, date]:
    """A stay no other test uses (the stand-in's bookings persist for the whole session)."""
    start = datetime.now(UTC).date() + timedelta(days=next(_offsets))
    return start, start + timedelta(days=nights)


def d(value: date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)
