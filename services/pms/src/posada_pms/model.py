"""The pms domain in plain Python: what the core computes with, free of protobuf.

Only the servicer edge (`requests.py` in, `messages.py` out) knows hotel.pms.v1 messages. Room
categories, policy topics and booking statuses are the contract's enum numbers (plain ints);
money is integer minor units with its currency. Hotels and room types are cached in Redis as
JSON (`to_json`/`from_json`), so a cache hit costs one JSON decode and nothing else.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Address:
    line1: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country_code: str = ""


@dataclass(frozen=True)
class Policy:
    topic: int  # hotel.pms.v1.PolicyTopic
    text: str


@dataclass(frozen=True)
class Hotel:
    hotel_id: str
    name: str
    address: Address
    latitude: float
    longitude: float
    phone: str
    email: str
    check_in_time: str
    check_out_time: str
    time_zone: str
    currency_code: str
    policies: tuple[Policy, ...]
    amenities: tuple[str, ...]
    description: str
    rating: int
    # Feature names as the hotel words them, in the requested language.
    features: tuple[str, ...] = ()
    long_description: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Hotel:
        return cls(
            **{
                **data,
                "address": Address(**data["address"]),
                "policies": tuple(Policy(**p) for p in data["policies"]),
                "amenities": tuple(data["amenities"]),
                "features": tuple(data.get("features") or ()),
            }
        )


@dataclass(frozen=True)
class RoomType:
    room_type_id: str
    name: str
    category: int  # hotel.pms.v1.RoomCategory, from the default-language name
    description: str
    price: str  # tax-excluded base price in major units, as QloApps gives it
    id_tax_rules_group: int
    max_adults: int
    max_children: int
    max_guests: int
    amenities: tuple[str, ...] = ()

    def fits(self, adults: int, children: int) -> bool:
        """Capacity is ours to check: QloApps' availability search ignores occupancy
        (docs/external-apis/qloapps.md#availability-search). 0 means "no limit"."""
        if self.max_adults and adults > self.max_adults:
            return False
        if children > self.max_children:
            return False
        return not (self.max_guests and adults + children > self.max_guests)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoomType:
        return cls(**{**data, "amenities": tuple(data.get("amenities") or ())})


@dataclass(frozen=True)
class NightlyPrice:
    night: date
    tax_excluded: int  # minor units
    tax_included: int


@dataclass(frozen=True)
class Offer:
    hotel_id: str
    room_type: RoomType
    rooms_left: int
    nightly: tuple[NightlyPrice, ...]
    total_tax_excluded: Money
    total_tax_included: Money
    base_price_currency: str  # the hotel's currency, for the room type's base price


@dataclass(frozen=True)
class Guest:
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""


@dataclass
class Booking:
    booking_id: str
    reference: str
    hotel_id: str
    room_type_id: str
    room_type_name: str
    adults: int
    children: int
    guest: Guest
    status: int  # hotel.pms.v1.BookingStatus
    idempotency_key: str = ""
    check_in: date | None = None
    check_out: date | None = None
    total_tax_excluded: Money | None = None
    total_tax_included: Money | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class StaySearch:
    """CheckAvailability, validated."""

    hotel_id: str
    check_in: date
    check_out: date
    adults: int
    children: int
    room_type_id: str = ""
    category: int = 0
    language: str = ""


@dataclass(frozen=True)
class BookingRequest:
    """CreateBooking, validated."""

    idempotency_key: str
    hotel_id: str
    room_type_id: str
    check_in: date
    check_out: date
    adults: int
    children: int
    guest: Guest
    expected_total: Money | None = None
    language: str = ""

    def fingerprint(self) -> str:
        """What the booking *is* (not the quote it was confirmed at, not the reply language):
        the same idempotency key must always come with the same fingerprint."""
        material = "|".join(
            str(part)
            for part in (
                self.hotel_id,
                self.room_type_id,
                self.check_in,
                self.check_out,
                self.adults,
                self.children,
                self.guest.email.strip().lower(),
            )
        )
        return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class BookingChange:
    """ModifyBooking, validated: None (or "") keeps the current value."""

    booking_id: str
    check_in: date | None = None
    check_out: date | None = None
    room_type_id: str = ""
    adults: int | None = None
    children: int | None = None
    language: str = ""


@dataclass(frozen=True)
class BookingSearch:
    """FindBookings, validated: reference, e-mail (lower case) or phone digits."""

    reference: str = ""
    email: str = ""
    phone: str = ""
    hotel_id: str = ""
    language: str = ""


@dataclass(frozen=True)
class Limits:
    max_stay_nights: int = 30
    max_advance_days: int = 730


@dataclass
class CoreOptions:
    max_stay_nights: int = 30
    max_advance_days: int = 730
    idempotency_ttl_seconds: int = 30 * 24 * 3600
    default_time_zone: str = "UTC"
    hotel_time_zones: dict[str, str] | None = None
    lookup_attempts: int = 3
    find_limit: int = 20

    @property
    def limits(self) -> Limits:
        return Limits(self.max_stay_nights, self.max_advance_days)
