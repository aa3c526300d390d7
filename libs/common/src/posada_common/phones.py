"""Phone numbers as guests and PMSs write them: compare by digits, tolerate a missing country code.

Cross-cutting (conversation verifies a guest by phone, pms finds bookings by phone), and easy
to get subtly different in two places, so it lives here once.
"""

from __future__ import annotations

import re


def digits(value: str | None) -> str:
    """Only the digits: '+34 612-345 678' -> '34612345678'."""
    return re.sub(r"\D", "", value or "")


def same_phone(a: str | None, b: str | None, *, min_significant: int = 9) -> bool:
    """Equal digits, or one is the other without its country code (at least `min_significant`
    digits on the shorter side, so '678' never matches a whole number)."""
    da, db = digits(a), digits(b)
    if not da or not db:
        return False
    if da == db:
        return True
    short, long_ = sorted((da, db), key=len)
    return len(short) >= min_significant and long_.endswith(short)
