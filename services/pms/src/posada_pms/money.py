"""Prices from QloApps (floats or strings in major units) to integer minor units.

QloApps answers prices as JSON numbers (`hotel_ari`) or 6-decimal strings (generic resources).
Going through `Decimal(str(value))` keeps `1650.1` from becoming 165009 cents, and rounding is
half-up, as a front desk would do it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from hotel.type.v1 import money_pb2

# ISO 4217 currencies whose minor unit is not 1/100.
_EXPONENTS = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3,
    "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}  # fmt: skip


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_decimal(value: object) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def to_minor(value: object, currency: str) -> int:
    scale = Decimal(10) ** exponent(currency)
    return int((to_decimal(value) * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(value: object, currency: str) -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency.upper(), amount_minor=to_minor(value, currency))


def minor_money(amount_minor: int, currency: str) -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency.upper(), amount_minor=amount_minor)
