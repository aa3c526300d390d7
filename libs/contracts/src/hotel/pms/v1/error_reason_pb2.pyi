from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class PmsErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PMS_ERROR_REASON_UNSPECIFIED: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_OVER_CAPACITY: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_SOLD_OUT: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_PRICE_CHANGED: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_PMS_REJECTED: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_CANCELLED: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_CHECKED_IN: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_IDEMPOTENCY_KEY_REUSED: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_BOOKING_BUSY: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_LOCK_UNAVAILABLE: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_PMS_UNAVAILABLE: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_PMS_AUTH: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_OUTCOME_UNKNOWN: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_HOTEL_NOT_FOUND: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_ROOM_TYPE_NOT_FOUND: _ClassVar[PmsErrorReason]
    PMS_ERROR_REASON_BOOKING_NOT_FOUND: _ClassVar[PmsErrorReason]
PMS_ERROR_REASON_UNSPECIFIED: PmsErrorReason
PMS_ERROR_REASON_OVER_CAPACITY: PmsErrorReason
PMS_ERROR_REASON_SOLD_OUT: PmsErrorReason
PMS_ERROR_REASON_PRICE_CHANGED: PmsErrorReason
PMS_ERROR_REASON_PMS_REJECTED: PmsErrorReason
PMS_ERROR_REASON_CANCELLED: PmsErrorReason
PMS_ERROR_REASON_CHECKED_IN: PmsErrorReason
PMS_ERROR_REASON_IDEMPOTENCY_KEY_REUSED: PmsErrorReason
PMS_ERROR_REASON_BOOKING_BUSY: PmsErrorReason
PMS_ERROR_REASON_LOCK_UNAVAILABLE: PmsErrorReason
PMS_ERROR_REASON_PMS_UNAVAILABLE: PmsErrorReason
PMS_ERROR_REASON_PMS_AUTH: PmsErrorReason
PMS_ERROR_REASON_OUTCOME_UNKNOWN: PmsErrorReason
PMS_ERROR_REASON_HOTEL_NOT_FOUND: PmsErrorReason
PMS_ERROR_REASON_ROOM_TYPE_NOT_FOUND: PmsErrorReason
PMS_ERROR_REASON_BOOKING_NOT_FOUND: PmsErrorReason
