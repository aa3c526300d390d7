"""gRPC `hotel.pms.v1.PmsService`: the protocol edge around the protocol-free `PmsCore`.

Each RPC validates its request into plain values (`requests.py`), asks the core, and turns
the plain answer into messages (`messages.py`) — the shape of grpc's route_guide asyncio server.

Domain errors (`posada_common.errors`) propagate; the common error interceptor turns them into
gRPC statuses with details. `map_errors` does the same without the interceptor, so the servicer
also behaves on a bare `grpc.aio.server()` (tests, tools). Each call's gRPC deadline is handed
to the QloApps client, which fits its timeouts inside it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from grpc_status import rpc_status
from hotel.pms.v1 import pms_service_pb2 as pms
from hotel.pms.v1 import pms_service_pb2_grpc as pms_grpc
from posada_common.errors import ServiceError

from posada_pms import messages, requests
from posada_pms.core import PmsCore
from posada_pms.qloapps import CALL_DEADLINE

R = TypeVar("R")


def map_errors(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> R:
        remaining = context.time_remaining()
        token = CALL_DEADLINE.set(time.monotonic() + remaining if remaining is not None else None)
        try:
            return await fn(self, request, context)
        except ServiceError as exc:
            await context.abort_with_status(rpc_status.to_status(exc.to_status()))
            raise  # unreachable: abort raises
        finally:
            CALL_DEADLINE.reset(token)

    return wrapper


class PmsServicer(pms_grpc.PmsServiceServicer):
    def __init__(self, core: PmsCore) -> None:
        self.core = core
        self.limits = core.options.limits

    @map_errors
    async def ListHotels(
        self, request: pms.ListHotelsRequest, context: Any
    ) -> pms.ListHotelsResponse:
        lang = await self.core.catalogue.language_id(requests.language(request.language))
        hotels = await self.core.catalogue.hotels(lang)
        ordered = sorted(hotels.values(), key=lambda hotel: int(hotel.hotel_id))
        return pms.ListHotelsResponse(hotels=[messages.hotel_message(hotel) for hotel in ordered])

    @map_errors
    async def GetHotel(self, request: pms.GetHotelRequest, context: Any) -> pms.GetHotelResponse:
        hotel_id, code = requests.hotel_lookup(request)
        lang = await self.core.catalogue.language_id(code)
        hotel = await self.core.catalogue.hotel(hotel_id, lang)
        return pms.GetHotelResponse(hotel=messages.hotel_message(hotel))

    @map_errors
    async def ListRoomTypes(
        self, request: pms.ListRoomTypesRequest, context: Any
    ) -> pms.ListRoomTypesResponse:
        hotel_id, code = requests.hotel_lookup(request)
        catalogue = self.core.catalogue
        lang = await catalogue.language_id(code)
        hotel = await catalogue.hotel(hotel_id, lang)
        room_types = sorted(
            (await catalogue.room_types(hotel_id, lang)).values(),
            key=lambda room_type: int(room_type.room_type_id),
        )
        return pms.ListRoomTypesResponse(
            room_types=[
                messages.room_type_message(rt, hotel.hotel_id, hotel.currency_code)
                for rt in room_types
            ]
        )

    @map_errors
    async def CheckAvailability(
        self, request: pms.CheckAvailabilityRequest, context: Any
    ) -> pms.CheckAvailabilityResponse:
        offers, currency = await self.core.availability.check(
            requests.stay_search(request, self.limits)
        )
        return pms.CheckAvailabilityResponse(
            offers=[messages.offer_message(offer) for offer in offers], currency_code=currency
        )

    @map_errors
    async def CreateBooking(
        self, request: pms.CreateBookingRequest, context: Any
    ) -> pms.CreateBookingResponse:
        booking, replayed = await self.core.bookings.create(
            requests.booking_request(request, self.limits)
        )
        return pms.CreateBookingResponse(
            booking=messages.booking_message(booking), replayed=replayed
        )

    @map_errors
    async def GetBooking(
        self, request: pms.GetBookingRequest, context: Any
    ) -> pms.GetBookingResponse:
        booking = await self.core.reader.get(*requests.booking_lookup(request))
        return pms.GetBookingResponse(booking=messages.booking_message(booking))

    @map_errors
    async def FindBookings(
        self, request: pms.FindBookingsRequest, context: Any
    ) -> pms.FindBookingsResponse:
        found = await self.core.reader.find(requests.booking_search(request))
        return pms.FindBookingsResponse(
            bookings=[messages.booking_message(booking) for booking in found]
        )

    @map_errors
    async def CancelBooking(
        self, request: pms.CancelBookingRequest, context: Any
    ) -> pms.CancelBookingResponse:
        booking = await self.core.bookings.cancel(*requests.cancellation(request))
        return pms.CancelBookingResponse(booking=messages.booking_message(booking))

    @map_errors
    async def ModifyBooking(
        self, request: pms.ModifyBookingRequest, context: Any
    ) -> pms.ModifyBookingResponse:
        booking = await self.core.bookings.modify(requests.booking_change(request))
        return pms.ModifyBookingResponse(booking=messages.booking_message(booking))
