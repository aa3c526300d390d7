"""Creating, cancelling and changing bookings so that nothing is ever doubled or lost.

How a booking is never doubled (docs/reliability.md#idempotency-of-bookings):

1. The idempotency key is tied to the request (`IdempotencyKeys.claim`) and looked up before
   creating; a hit returns that booking (`replayed`).
2. Creation happens under per-night Redis locks of the hotel/room type (`locks.py`), with the
   key looked up again and a fresh (uncached) availability check under the lock, because
   QloApps itself checks availability and inserts without any lock.
3. A create whose outcome is unknown (timeout, dropped connection, 5xx) is never re-posted
   blindly: the key is looked up; found → that booking; not found → UNAVAILABLE
   `OUTCOME_UNKNOWN`, and the caller's retry with the same key looks it up again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from hotel.pms.v1 import pms_service_pb2 as pms  # booking status numbers
from hotel.pms.v1.error_reason import PmsErrorReason
from posada_common.errors import FailedPrecondition, Unavailable
from posada_common.logging import get_logger

from posada_pms import mapping as qlo
from posada_pms.availability import Availability
from posada_pms.booking_documents import (
    booking_refusal,
    change_refusal,
    modified_document,
    new_booking_document,
)
from posada_pms.booking_reads import BookingReader, same_stay
from posada_pms.cache import PmsCache
from posada_pms.catalogue import Catalogue
from posada_pms.errors import pms_call, room_type_not_found, unavailable
from posada_pms.idempotency import IdempotencyKeys
from posada_pms.locks import LockBusy, LockUnavailable, StayLocks
from posada_pms.metrics import BOOKINGS
from posada_pms.model import Booking, BookingChange, BookingRequest, Limits, RoomType
from posada_pms.qloapps import (
    QloAppsClient,
    QloAppsError,
    QloAuthError,
    QloBadRequest,
    QloNotFound,
    QloUnavailable,
)
from posada_pms.validation import Violations

log = get_logger(__name__)
_DONE = (pms.BOOKING_STATUS_CANCELLED, pms.BOOKING_STATUS_REFUNDED)
_ARRIVED = (pms.BOOKING_STATUS_CHECKED_IN, pms.BOOKING_STATUS_CHECKED_OUT)


class Bookings:
    def __init__(
        self,
        client: QloAppsClient,
        cache: PmsCache,
        locks: StayLocks,
        catalogue: Catalogue,
        availability: Availability,
        reader: BookingReader,
        keys: IdempotencyKeys,
        limits: Limits,
    ) -> None:
        self.client = client
        self.cache = cache
        self.locks = locks
        self.catalogue = catalogue
        self.availability = availability
        self.reader = reader
        self.keys = keys
        self.limits = limits

    @asynccontextmanager
    async def _nights_locked(
        self, operation: str, hotel_id: str, room_type_id: str, check_in: date, check_out: date
    ) -> AsyncIterator[None]:
        try:
            async with self.locks.hold(hotel_id, room_type_id, check_in, check_out):
                yield
        except LockBusy as exc:
            BOOKINGS.labels(operation, "lock_busy").inc()
            raise Unavailable(
                "these nights are being booked right now; retry shortly",
                reason=PmsErrorReason.BOOKING_BUSY,
            ) from exc
        except LockUnavailable as exc:
            raise Unavailable(
                "cannot take the booking lock (Redis unavailable)",
                reason=PmsErrorReason.LOCK_UNAVAILABLE,
            ) from exc

    async def _room_type(self, hotel_id: str, room_type_id: str) -> RoomType:
        room_type = (await self.catalogue.room_types(hotel_id)).get(room_type_id)
        if room_type is None:
            raise room_type_not_found(room_type_id, hotel_id)
        return room_type

    # --- create ------------------------------------------------------------------------------

    async def create(self, request: BookingRequest) -> tuple[Booking, bool]:
        """The booking and whether it was replayed (the key was used before)."""
        lang = await self.catalogue.booking_language_id(request.language)
        existing = await pms_call(self.keys.lookup(request.idempotency_key))
        if existing:
            return await self._replay(request, existing, lang), True
        await self.keys.claim(request)
        hotel = await self.catalogue.hotel(request.hotel_id)
        room_type = await self._room_type(request.hotel_id, request.room_type_id)
        if not room_type.fits(request.adults, request.children):
            raise FailedPrecondition(
                f"{room_type.name} takes at most {room_type.max_adults} adults, "
                f"{room_type.max_children} children, {room_type.max_guests} guests",
                reason=PmsErrorReason.OVER_CAPACITY,
            )
        async with self._nights_locked(
            "create", request.hotel_id, request.room_type_id, request.check_in, request.check_out
        ):
            # Someone with the same key may have finished while we waited for the lock.
            existing = await pms_call(self.keys.lookup(request.idempotency_key))
            if existing:
                return await self._replay(request, existing, lang), True
            offers, currency = await self.availability.offers(
                hotel,
                request.check_in,
                request.check_out,
                request.adults,
                request.children,
                room_type_id=request.room_type_id,
                fresh=True,
            )
            if not offers:
                # The cached answers that showed this room are stale: drop them, so the
                # guest's next search shows what is really left.
                await self.cache.invalidate_availability(request.hotel_id)
                BOOKINGS.labels("create", "sold_out").inc()
                raise FailedPrecondition(
                    f"{room_type.name} is no longer available for these dates",
                    reason=PmsErrorReason.SOLD_OUT,
                )
            quoted, current = request.expected_total, offers[0].total_tax_included
            if quoted is not None and (
                quoted.currency.upper() != current.currency
                or quoted.amount_minor != current.amount_minor
            ):
                await self.cache.invalidate_availability(request.hotel_id)  # stale quotes
                BOOKINGS.labels("create", "price_changed").inc()
                raise FailedPrecondition(
                    "the price changed since the quote",
                    reason=PmsErrorReason.PRICE_CHANGED,
                    metadata={
                        "currency": current.currency,
                        "amount_minor": str(current.amount_minor),
                    },
                )
            booking_id = await self._post(request, room_type, currency)
        await self.keys.remember(request.idempotency_key, booking_id)
        await self.cache.invalidate_availability(request.hotel_id)
        BOOKINGS.labels("create", "created").inc()
        log.info(
            "booking_created",
            booking_id=booking_id,
            hotel_id=request.hotel_id,
            room_type_id=request.room_type_id,
        )
        return await pms_call(self.reader.read(booking_id, lang_id=lang)), False

    async def _replay(self, request: BookingRequest, booking_id: str, lang: int | None) -> Booking:
        try:
            booking = await self.reader.read(booking_id, lang_id=lang)
        except QloNotFound:
            raise Unavailable(
                "the booking of this idempotency key is not readable yet; retry",
                reason=PmsErrorReason.PMS_UNAVAILABLE,
            ) from None
        except QloAppsError as exc:
            raise unavailable(exc) from exc
        await self.keys.verify(request)
        self.keys.check_replay(request, booking)
        if not same_stay(booking, request.room_type_id, request.check_in, request.check_out):
            log.info("idempotency_replay_of_modified_booking", booking_id=booking_id)
        BOOKINGS.labels("create", "replayed").inc()
        return booking

    async def _post(self, request: BookingRequest, room_type: RoomType, currency: str) -> str:
        key = request.idempotency_key
        try:
            body = await self.client.post_json(
                "bookings", new_booking_document(request, room_type, currency)
            )
        except QloBadRequest as exc:
            raise booking_refusal(exc.messages) from exc
        except (QloUnavailable, QloAuthError) as exc:
            if isinstance(exc, QloUnavailable) and exc.maybe_applied:
                found = await self.keys.lookup_after_unknown_outcome(key)
                if found:
                    BOOKINGS.labels("create", "recovered").inc()
                    log.warning("booking_recovered_after_lost_answer", booking_id=found)
                    return found
                BOOKINGS.labels("create", "unknown_outcome").inc()
                raise Unavailable(
                    "the PMS did not confirm the booking; retry with the same idempotency key",
                    reason=PmsErrorReason.OUTCOME_UNKNOWN,
                ) from exc
            raise unavailable(exc) from exc
        booking = (body or {}).get("booking") if isinstance(body, dict) else None
        if not isinstance(booking, dict) or not booking.get("id"):
            found = await self.keys.lookup_after_unknown_outcome(key)
            if found:
                return found
            raise Unavailable(
                "the PMS answered without a booking id", reason=PmsErrorReason.OUTCOME_UNKNOWN
            )
        return str(booking["id"])

    # --- cancel ------------------------------------------------------------------------------

    async def cancel(self, booking_id: str, reason: str, language: str) -> Booking:
        lang = await self.catalogue.booking_language_id(language)
        booking = await pms_call(
            self.reader.read(booking_id, lang_id=lang), f"booking {booking_id} not found"
        )
        if booking.status in _DONE:
            return booking  # already done: cancelling is idempotent
        if booking.status in _ARRIVED:
            raise FailedPrecondition(
                "the guest has already checked in; the front desk must handle it",
                reason=PmsErrorReason.CHECKED_IN,
            )
        try:
            # A new order state, not a PUT of the whole booking
            # (docs/external-apis/qloapps.md#orders-and-states).
            await self.client.post_xml(
                "order_histories",
                "order_history",
                {"id_order": booking_id, "id_order_state": qlo.ORDER_STATE_CANCELED},
            )
        except QloBadRequest as exc:
            raise FailedPrecondition(
                f"the PMS refused the cancellation: {'; '.join(exc.messages)}",
                reason=PmsErrorReason.PMS_REJECTED,
            ) from exc
        except (QloUnavailable, QloAuthError) as exc:
            if not (isinstance(exc, QloUnavailable) and exc.maybe_applied):
                raise unavailable(exc) from exc
            # Outcome unknown: read the order back rather than posting the state twice.
            try:
                again = await self.reader.read(booking_id)
            except QloAppsError:
                raise unavailable(exc) from exc
            if again.status != pms.BOOKING_STATUS_CANCELLED:
                raise unavailable(exc) from exc
        await self.cache.invalidate_availability(booking.hotel_id)
        BOOKINGS.labels("cancel", "cancelled").inc()
        log.info("booking_cancelled", booking_id=booking_id, reason=reason[:100])
        return await pms_call(self.reader.read(booking_id, lang_id=lang))

    # --- modify ------------------------------------------------------------------------------

    async def modify(self, change: BookingChange) -> Booking:
        lang = await self.catalogue.booking_language_id(change.language)
        booking_id = change.booking_id
        doc = await pms_call(
            self.client.get_one(f"bookings/{booking_id}", "booking"),
            f"booking {booking_id} not found",
        )
        current = await pms_call(self.reader.read(booking_id, raw=doc))
        if current.status in _DONE:
            raise FailedPrecondition("the booking is cancelled", reason=PmsErrorReason.CANCELLED)
        if current.status in _ARRIVED:
            raise FailedPrecondition(
                "the guest has already checked in", reason=PmsErrorReason.CHECKED_IN
            )
        assert current.check_in is not None and current.check_out is not None
        old_in, old_out = current.check_in, current.check_out
        check_in, check_out = change.check_in or old_in, change.check_out or old_out
        room_type_id = change.room_type_id or current.room_type_id
        adults = current.adults if change.adults is None else change.adults
        children = current.children if change.children is None else change.children
        violations = Violations()
        if change.check_in or change.check_out:
            violations.stay(
                check_in,
                check_out,
                max_nights=self.limits.max_stay_nights,
                max_advance_days=self.limits.max_advance_days,
            )
        violations.guests(adults, children)
        violations.raise_if_any()

        hotel = await self.catalogue.hotel(current.hotel_id)
        room_type = await self._room_type(current.hotel_id, room_type_id)
        if not room_type.fits(adults, children):
            raise FailedPrecondition(
                f"{room_type.name} does not fit {adults} adults and {children} children",
                reason=PmsErrorReason.OVER_CAPACITY,
            )
        unchanged_stay = same_stay(current, room_type_id, check_in, check_out)
        overlaps_own = (
            room_type_id == current.room_type_id and check_in < old_out and old_in < check_out
        )
        async with self._nights_locked(
            "modify", current.hotel_id, room_type_id, check_in, check_out
        ):
            if not overlaps_own:
                offers, _ = await self.availability.offers(
                    hotel,
                    check_in,
                    check_out,
                    adults,
                    children,
                    room_type_id=room_type_id,
                    fresh=True,
                )
                if not offers:
                    raise FailedPrecondition(
                        f"{room_type.name} is not available for these dates",
                        reason=PmsErrorReason.SOLD_OUT,
                    )
            # Overlapping our own stay the booking itself holds a room, so only QloApps (which
            # re-checks on PUT) can tell; its refusal maps to FAILED_PRECONDITION below.
            document = modified_document(
                doc, room_type, check_in, check_out, adults, children, unchanged_stay
            )
            try:
                await self.client.put_json(f"bookings/{booking_id}", document)
            except QloBadRequest as exc:
                raise change_refusal(exc.messages) from exc
            except (QloUnavailable, QloAuthError) as exc:
                if not (isinstance(exc, QloUnavailable) and exc.maybe_applied):
                    raise unavailable(exc) from exc
                again = await pms_call(self.reader.read(booking_id))
                if not same_stay(again, room_type_id, check_in, check_out):
                    raise unavailable(exc) from exc
        await self.cache.invalidate_availability(current.hotel_id)
        BOOKINGS.labels("modify", "modified").inc()
        return await pms_call(self.reader.read(booking_id, lang_id=lang))
