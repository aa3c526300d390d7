"""gRPC `hotel.pms.v1.PmsService`: a thin shell over `PmsCore`.

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

from posada_pms.qloapps import CALL_DEADLINE
from posada_pms.service import PmsCore

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

    @map_errors
    async def ListHotels(
        self, request: pms.ListHotelsRequest, context: Any
    ) -> pms.ListHotelsResponse:
        return await self.core.list_hotels(request)

    @map_errors
    async def GetHotel(self, request: pms.GetHotelRequest, context: Any) -> pms.GetHotelResponse:
        return await self.core.get_hotel(request)

    @map_errors
    async def ListRoomTypes(
        self, request: pms.ListRoomTypesRequest, context: Any
    ) -> pms.ListRoomTypesResponse:
        return await self.core.list_room_types(request)

    @map_errors
    async def CheckAvailability(
        self, request: pms.CheckAvailabilityRequest, context: Any
    ) -> pms.CheckAvailabilityResponse:
        return await self.core.check_availability(request)

    @map_errors
    async def CreateBooking(
        self, request: pms.CreateBookingRequest, context: Any
    ) -> pms.CreateBookingResponse:
        return await self.core.create_booking(request)

    @map_errors
    async def GetBooking(
        self, request: pms.GetBookingRequest, context: Any
    ) -> pms.GetBookingResponse:
        return await self.core.get_booking(request)

    @map_errors
    async def FindBookings(
        self, request: pms.FindBookingsRequest, context: Any
    ) -> pms.FindBookingsResponse:
        return await self.core.find_bookings(request)

    @map_errors
    async def CancelBooking(
        self, request: pms.CancelBookingRequest, context: Any
    ) -> pms.CancelBookingResponse:
        return await self.core.cancel_booking(request)

    @map_errors
    async def ModifyBooking(
        self, request: pms.ModifyBookingRequest, context: Any
    ) -> pms.ModifyBookingResponse:
        return await self.core.modify_booking(request)
