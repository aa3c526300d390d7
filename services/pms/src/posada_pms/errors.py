"""QloApps failures → the service's errors, each with its `PmsErrorReason` (ADR 0014).

One place decides what a caller is told when QloApps is down, refuses our key, or refuses a
request; docs/reliability.md#pms-error-reasons lists what callers do with each reason.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from hotel.pms.v1.error_reason import PmsErrorReason
from posada_common.errors import FailedPrecondition, NotFound, ServiceError, Unavailable
from posada_common.logging import get_logger

from posada_pms.qloapps import (
    QloAppsError,
    QloAuthError,
    QloBadRequest,
    QloNotFound,
    QloUnavailable,
)

log = get_logger(__name__)
T = TypeVar("T")


def unavailable(exc: QloAppsError) -> ServiceError:
    if isinstance(exc, QloAuthError):
        log.error("qloapps_auth_failed", status=exc.status, detail=exc.detail)
        return Unavailable("the PMS refused our credentials", reason=PmsErrorReason.PMS_AUTH)
    return Unavailable(f"the PMS is unavailable: {exc}", reason=PmsErrorReason.PMS_UNAVAILABLE)


async def pms_call(
    call: Awaitable[T],
    not_found: str = "not found in the PMS",
    not_found_reason: PmsErrorReason = PmsErrorReason.BOOKING_NOT_FOUND,
) -> T:
    """Await a QloApps call and translate its failures into gRPC-coded errors."""
    try:
        return await call
    except QloNotFound as exc:
        raise NotFound(not_found, reason=not_found_reason) from exc
    except (QloUnavailable, QloAuthError) as exc:
        raise unavailable(exc) from exc
    except QloBadRequest as exc:
        raise FailedPrecondition(
            f"the PMS refused the request: {'; '.join(exc.messages)}",
            reason=PmsErrorReason.PMS_REJECTED,
        ) from exc


def hotel_not_found(hotel_id: str) -> NotFound:
    return NotFound(
        f"hotel {hotel_id} not found",
        reason=PmsErrorReason.HOTEL_NOT_FOUND,
        metadata={"hotel_id": hotel_id},
    )


def room_type_not_found(room_type_id: str, hotel_id: str) -> NotFound:
    return NotFound(
        f"room type {room_type_id} not found in hotel {hotel_id}",
        reason=PmsErrorReason.ROOM_TYPE_NOT_FOUND,
        metadata={"room_type_id": room_type_id},
    )
