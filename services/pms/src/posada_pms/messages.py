"""Plain values → hotel.pms.v1 messages (the servicer's way out)."""

from __future__ import annotations

from datetime import date

from hotel.pms.v1 import pms_service_pb2 as pms
from hotel.type.v1 import date_pb2, money_pb2

from posada_pms import mapping as qlo
from posada_pms.model import Booking, Hotel, Money, Offer, RoomType
from posada_pms.money import to_minor


def date_message(value: date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def money_message(value: Money) -> money_pb2.Money:
    return money_pb2.Money(currency_code=value.currency.upper(), amount_minor=value.amount_minor)


def hotel_message(hotel: Hotel) -> pms.Hotel:
    return pms.Hotel(
        hotel_id=hotel.hotel_id,
        name=hotel.name,
        address=pms.Address(
            line1=hotel.address.line1,
            city=hotel.address.city,
            state=hotel.address.state,
            postcode=hotel.address.postcode,
            country_code=hotel.address.country_code,
        ),
        latitude=hotel.latitude,
        longitude=hotel.longitude,
        phone=hotel.phone,
        email=hotel.email,
        check_in_time=hotel.check_in_time,
        check_out_time=hotel.check_out_time,
        time_zone=hotel.time_zone,
        currency_code=hotel.currency_code,
        policies=[pms.Policy(topic=p.topic, text=p.text) for p in hotel.policies],  # type: ignore[arg-type]
        amenities=hotel.amenities,
        description=hotel.description,
        rating=hotel.rating,
        features=hotel.features,
        long_description=hotel.long_description,
    )


def room_type_message(room_type: RoomType, hotel_id: str, currency: str) -> pms.RoomType:
    """`currency` is the hotel's (base prices are kept in it); "" leaves the price out."""
    return pms.RoomType(
        room_type_id=room_type.room_type_id,
        hotel_id=hotel_id,
        name=room_type.name,
        category=room_type.category  # type: ignore[arg-type]
        or qlo.room_category(room_type.name, room_type.max_adults, room_type.max_guests),
        max_adults=room_type.max_adults,
        max_children=room_type.max_children,
        max_occupancy=room_type.max_guests,
        base_price=money_message(Money(to_minor(room_type.price, currency), currency))
        if currency
        else None,
        description=room_type.description,
        amenities=room_type.amenities,
    )


def offer_message(offer: Offer) -> pms.Offer:
    currency = offer.total_tax_included.currency
    return pms.Offer(
        room_type=room_type_message(offer.room_type, offer.hotel_id, offer.base_price_currency),
        rooms_left=offer.rooms_left,
        nightly_prices=[
            pms.NightlyPrice(
                date=date_message(night.night),
                price_tax_excluded=money_message(Money(night.tax_excluded, currency)),
                price_tax_included=money_message(Money(night.tax_included, currency)),
            )
            for night in offer.nightly
        ],
        total_tax_excluded=money_message(offer.total_tax_excluded),
        total_tax_included=money_message(offer.total_tax_included),
    )


def booking_message(booking: Booking) -> pms.Booking:
    message = pms.Booking(
        booking_id=booking.booking_id,
        reference=booking.reference,
        hotel_id=booking.hotel_id,
        room_type_id=booking.room_type_id,
        room_type_name=booking.room_type_name,
        adults=booking.adults,
        children=booking.children,
        guest=pms.GuestDetails(
            first_name=booking.guest.first_name,
            last_name=booking.guest.last_name,
            email=booking.guest.email,
            phone=booking.guest.phone,
        ),
        status=booking.status,  # type: ignore[arg-type]
        idempotency_key=booking.idempotency_key,
    )
    if booking.check_in:
        message.check_in.CopyFrom(date_message(booking.check_in))
    if booking.check_out:
        message.check_out.CopyFrom(date_message(booking.check_out))
    if booking.total_tax_excluded:
        message.total_tax_excluded.CopyFrom(money_message(booking.total_tax_excluded))
    if booking.total_tax_included:
        message.total_tax_included.CopyFrom(money_message(booking.total_tax_included))
    if booking.created_at:
        message.created_at.FromDatetime(booking.created_at)
    return message
