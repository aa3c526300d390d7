import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hotel.type.v1 import date_pb2 as _date_pb2
from hotel.type.v1 import money_pb2 as _money_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RoomCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROOM_CATEGORY_UNSPECIFIED: _ClassVar[RoomCategory]
    ROOM_CATEGORY_SINGLE: _ClassVar[RoomCategory]
    ROOM_CATEGORY_DOUBLE: _ClassVar[RoomCategory]
    ROOM_CATEGORY_TWIN: _ClassVar[RoomCategory]
    ROOM_CATEGORY_SUITE: _ClassVar[RoomCategory]
    ROOM_CATEGORY_FAMILY: _ClassVar[RoomCategory]

class PolicyTopic(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POLICY_TOPIC_UNSPECIFIED: _ClassVar[PolicyTopic]
    POLICY_TOPIC_CHECK_IN: _ClassVar[PolicyTopic]
    POLICY_TOPIC_CHECK_OUT: _ClassVar[PolicyTopic]
    POLICY_TOPIC_PETS: _ClassVar[PolicyTopic]
    POLICY_TOPIC_CANCELLATION: _ClassVar[PolicyTopic]
    POLICY_TOPIC_PAYMENT: _ClassVar[PolicyTopic]
    POLICY_TOPIC_CHILDREN: _ClassVar[PolicyTopic]
    POLICY_TOPIC_SMOKING: _ClassVar[PolicyTopic]
    POLICY_TOPIC_OTHER: _ClassVar[PolicyTopic]

class BookingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BOOKING_STATUS_UNSPECIFIED: _ClassVar[BookingStatus]
    BOOKING_STATUS_PENDING: _ClassVar[BookingStatus]
    BOOKING_STATUS_CONFIRMED: _ClassVar[BookingStatus]
    BOOKING_STATUS_CANCELLED: _ClassVar[BookingStatus]
    BOOKING_STATUS_CHECKED_IN: _ClassVar[BookingStatus]
    BOOKING_STATUS_CHECKED_OUT: _ClassVar[BookingStatus]
    BOOKING_STATUS_REFUNDED: _ClassVar[BookingStatus]
ROOM_CATEGORY_UNSPECIFIED: RoomCategory
ROOM_CATEGORY_SINGLE: RoomCategory
ROOM_CATEGORY_DOUBLE: RoomCategory
ROOM_CATEGORY_TWIN: RoomCategory
ROOM_CATEGORY_SUITE: RoomCategory
ROOM_CATEGORY_FAMILY: RoomCategory
POLICY_TOPIC_UNSPECIFIED: PolicyTopic
POLICY_TOPIC_CHECK_IN: PolicyTopic
POLICY_TOPIC_CHECK_OUT: PolicyTopic
POLICY_TOPIC_PETS: PolicyTopic
POLICY_TOPIC_CANCELLATION: PolicyTopic
POLICY_TOPIC_PAYMENT: PolicyTopic
POLICY_TOPIC_CHILDREN: PolicyTopic
POLICY_TOPIC_SMOKING: PolicyTopic
POLICY_TOPIC_OTHER: PolicyTopic
BOOKING_STATUS_UNSPECIFIED: BookingStatus
BOOKING_STATUS_PENDING: BookingStatus
BOOKING_STATUS_CONFIRMED: BookingStatus
BOOKING_STATUS_CANCELLED: BookingStatus
BOOKING_STATUS_CHECKED_IN: BookingStatus
BOOKING_STATUS_CHECKED_OUT: BookingStatus
BOOKING_STATUS_REFUNDED: BookingStatus

class Address(_message.Message):
    __slots__ = ("line1", "line2", "city", "state", "postcode", "country_code")
    LINE1_FIELD_NUMBER: _ClassVar[int]
    LINE2_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    POSTCODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    line1: str
    line2: str
    city: str
    state: str
    postcode: str
    country_code: str
    def __init__(self, line1: _Optional[str] = ..., line2: _Optional[str] = ..., city: _Optional[str] = ..., state: _Optional[str] = ..., postcode: _Optional[str] = ..., country_code: _Optional[str] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("topic", "text")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    topic: PolicyTopic
    text: str
    def __init__(self, topic: _Optional[_Union[PolicyTopic, str]] = ..., text: _Optional[str] = ...) -> None: ...

class Hotel(_message.Message):
    __slots__ = ("hotel_id", "name", "address", "latitude", "longitude", "phone", "email", "check_in_time", "check_out_time", "time_zone", "currency_code", "policies", "amenities", "description", "rating", "features", "long_description")
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    CHECK_IN_TIME_FIELD_NUMBER: _ClassVar[int]
    CHECK_OUT_TIME_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    AMENITIES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    LONG_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
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
    policies: _containers.RepeatedCompositeFieldContainer[Policy]
    amenities: _containers.RepeatedScalarFieldContainer[str]
    description: str
    rating: int
    features: _containers.RepeatedScalarFieldContainer[str]
    long_description: str
    def __init__(self, hotel_id: _Optional[str] = ..., name: _Optional[str] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., check_in_time: _Optional[str] = ..., check_out_time: _Optional[str] = ..., time_zone: _Optional[str] = ..., currency_code: _Optional[str] = ..., policies: _Optional[_Iterable[_Union[Policy, _Mapping]]] = ..., amenities: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., rating: _Optional[int] = ..., features: _Optional[_Iterable[str]] = ..., long_description: _Optional[str] = ...) -> None: ...

class RoomType(_message.Message):
    __slots__ = ("room_type_id", "hotel_id", "name", "category", "max_adults", "max_children", "max_occupancy", "base_price", "description", "amenities")
    ROOM_TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    MAX_ADULTS_FIELD_NUMBER: _ClassVar[int]
    MAX_CHILDREN_FIELD_NUMBER: _ClassVar[int]
    MAX_OCCUPANCY_FIELD_NUMBER: _ClassVar[int]
    BASE_PRICE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AMENITIES_FIELD_NUMBER: _ClassVar[int]
    room_type_id: str
    hotel_id: str
    name: str
    category: RoomCategory
    max_adults: int
    max_children: int
    max_occupancy: int
    base_price: _money_pb2.Money
    description: str
    amenities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, room_type_id: _Optional[str] = ..., hotel_id: _Optional[str] = ..., name: _Optional[str] = ..., category: _Optional[_Union[RoomCategory, str]] = ..., max_adults: _Optional[int] = ..., max_children: _Optional[int] = ..., max_occupancy: _Optional[int] = ..., base_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., amenities: _Optional[_Iterable[str]] = ...) -> None: ...

class NightlyPrice(_message.Message):
    __slots__ = ("date", "price_tax_excluded", "price_tax_included")
    DATE_FIELD_NUMBER: _ClassVar[int]
    PRICE_TAX_EXCLUDED_FIELD_NUMBER: _ClassVar[int]
    PRICE_TAX_INCLUDED_FIELD_NUMBER: _ClassVar[int]
    date: _date_pb2.Date
    price_tax_excluded: _money_pb2.Money
    price_tax_included: _money_pb2.Money
    def __init__(self, date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., price_tax_excluded: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., price_tax_included: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class Offer(_message.Message):
    __slots__ = ("room_type", "rooms_left", "nightly_prices", "total_tax_excluded", "total_tax_included")
    ROOM_TYPE_FIELD_NUMBER: _ClassVar[int]
    ROOMS_LEFT_FIELD_NUMBER: _ClassVar[int]
    NIGHTLY_PRICES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TAX_EXCLUDED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TAX_INCLUDED_FIELD_NUMBER: _ClassVar[int]
    room_type: RoomType
    rooms_left: int
    nightly_prices: _containers.RepeatedCompositeFieldContainer[NightlyPrice]
    total_tax_excluded: _money_pb2.Money
    total_tax_included: _money_pb2.Money
    def __init__(self, room_type: _Optional[_Union[RoomType, _Mapping]] = ..., rooms_left: _Optional[int] = ..., nightly_prices: _Optional[_Iterable[_Union[NightlyPrice, _Mapping]]] = ..., total_tax_excluded: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., total_tax_included: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class GuestDetails(_message.Message):
    __slots__ = ("first_name", "last_name", "email", "phone")
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    first_name: str
    last_name: str
    email: str
    phone: str
    def __init__(self, first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ...) -> None: ...

class Booking(_message.Message):
    __slots__ = ("booking_id", "reference", "hotel_id", "room_type_id", "room_type_name", "check_in", "check_out", "adults", "children", "guest", "status", "total_tax_excluded", "total_tax_included", "created_at", "idempotency_key")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_TYPE_NAME_FIELD_NUMBER: _ClassVar[int]
    CHECK_IN_FIELD_NUMBER: _ClassVar[int]
    CHECK_OUT_FIELD_NUMBER: _ClassVar[int]
    ADULTS_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    GUEST_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TAX_EXCLUDED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TAX_INCLUDED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    reference: str
    hotel_id: str
    room_type_id: str
    room_type_name: str
    check_in: _date_pb2.Date
    check_out: _date_pb2.Date
    adults: int
    children: int
    guest: GuestDetails
    status: BookingStatus
    total_tax_excluded: _money_pb2.Money
    total_tax_included: _money_pb2.Money
    created_at: _timestamp_pb2.Timestamp
    idempotency_key: str
    def __init__(self, booking_id: _Optional[str] = ..., reference: _Optional[str] = ..., hotel_id: _Optional[str] = ..., room_type_id: _Optional[str] = ..., room_type_name: _Optional[str] = ..., check_in: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., check_out: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., adults: _Optional[int] = ..., children: _Optional[int] = ..., guest: _Optional[_Union[GuestDetails, _Mapping]] = ..., status: _Optional[_Union[BookingStatus, str]] = ..., total_tax_excluded: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., total_tax_included: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ListHotelsRequest(_message.Message):
    __slots__ = ("language",)
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    language: str
    def __init__(self, language: _Optional[str] = ...) -> None: ...

class ListHotelsResponse(_message.Message):
    __slots__ = ("hotels",)
    HOTELS_FIELD_NUMBER: _ClassVar[int]
    hotels: _containers.RepeatedCompositeFieldContainer[Hotel]
    def __init__(self, hotels: _Optional[_Iterable[_Union[Hotel, _Mapping]]] = ...) -> None: ...

class GetHotelRequest(_message.Message):
    __slots__ = ("hotel_id", "language")
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    hotel_id: str
    language: str
    def __init__(self, hotel_id: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class GetHotelResponse(_message.Message):
    __slots__ = ("hotel",)
    HOTEL_FIELD_NUMBER: _ClassVar[int]
    hotel: Hotel
    def __init__(self, hotel: _Optional[_Union[Hotel, _Mapping]] = ...) -> None: ...

class ListRoomTypesRequest(_message.Message):
    __slots__ = ("hotel_id", "language")
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    hotel_id: str
    language: str
    def __init__(self, hotel_id: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class ListRoomTypesResponse(_message.Message):
    __slots__ = ("room_types",)
    ROOM_TYPES_FIELD_NUMBER: _ClassVar[int]
    room_types: _containers.RepeatedCompositeFieldContainer[RoomType]
    def __init__(self, room_types: _Optional[_Iterable[_Union[RoomType, _Mapping]]] = ...) -> None: ...

class CheckAvailabilityRequest(_message.Message):
    __slots__ = ("hotel_id", "check_in", "check_out", "adults", "children", "category", "room_type_id", "language")
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    CHECK_IN_FIELD_NUMBER: _ClassVar[int]
    CHECK_OUT_FIELD_NUMBER: _ClassVar[int]
    ADULTS_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    ROOM_TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    hotel_id: str
    check_in: _date_pb2.Date
    check_out: _date_pb2.Date
    adults: int
    children: int
    category: RoomCategory
    room_type_id: str
    language: str
    def __init__(self, hotel_id: _Optional[str] = ..., check_in: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., check_out: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., adults: _Optional[int] = ..., children: _Optional[int] = ..., category: _Optional[_Union[RoomCategory, str]] = ..., room_type_id: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class CheckAvailabilityResponse(_message.Message):
    __slots__ = ("offers", "currency_code")
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    offers: _containers.RepeatedCompositeFieldContainer[Offer]
    currency_code: str
    def __init__(self, offers: _Optional[_Iterable[_Union[Offer, _Mapping]]] = ..., currency_code: _Optional[str] = ...) -> None: ...

class CreateBookingRequest(_message.Message):
    __slots__ = ("idempotency_key", "hotel_id", "room_type_id", "check_in", "check_out", "adults", "children", "guest", "expected_total_tax_included", "language")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    CHECK_IN_FIELD_NUMBER: _ClassVar[int]
    CHECK_OUT_FIELD_NUMBER: _ClassVar[int]
    ADULTS_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    GUEST_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_TOTAL_TAX_INCLUDED_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    hotel_id: str
    room_type_id: str
    check_in: _date_pb2.Date
    check_out: _date_pb2.Date
    adults: int
    children: int
    guest: GuestDetails
    expected_total_tax_included: _money_pb2.Money
    language: str
    def __init__(self, idempotency_key: _Optional[str] = ..., hotel_id: _Optional[str] = ..., room_type_id: _Optional[str] = ..., check_in: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., check_out: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., adults: _Optional[int] = ..., children: _Optional[int] = ..., guest: _Optional[_Union[GuestDetails, _Mapping]] = ..., expected_total_tax_included: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., language: _Optional[str] = ...) -> None: ...

class CreateBookingResponse(_message.Message):
    __slots__ = ("booking", "replayed")
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    replayed: bool
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class GetBookingRequest(_message.Message):
    __slots__ = ("booking_id", "language")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    language: str
    def __init__(self, booking_id: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class GetBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ...) -> None: ...

class FindBookingsRequest(_message.Message):
    __slots__ = ("reference", "email", "phone", "hotel_id", "language")
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    reference: str
    email: str
    phone: str
    hotel_id: str
    language: str
    def __init__(self, reference: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., hotel_id: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class FindBookingsResponse(_message.Message):
    __slots__ = ("bookings",)
    BOOKINGS_FIELD_NUMBER: _ClassVar[int]
    bookings: _containers.RepeatedCompositeFieldContainer[Booking]
    def __init__(self, bookings: _Optional[_Iterable[_Union[Booking, _Mapping]]] = ...) -> None: ...

class CancelBookingRequest(_message.Message):
    __slots__ = ("booking_id", "reason", "language")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    reason: str
    language: str
    def __init__(self, booking_id: _Optional[str] = ..., reason: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class CancelBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ...) -> None: ...

class ModifyBookingRequest(_message.Message):
    __slots__ = ("booking_id", "check_in", "check_out", "room_type_id", "adults", "children", "language")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    CHECK_IN_FIELD_NUMBER: _ClassVar[int]
    CHECK_OUT_FIELD_NUMBER: _ClassVar[int]
    ROOM_TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    ADULTS_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    check_in: _date_pb2.Date
    check_out: _date_pb2.Date
    room_type_id: str
    adults: int
    children: int
    language: str
    def __init__(self, booking_id: _Optional[str] = ..., check_in: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., check_out: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., room_type_id: _Optional[str] = ..., adults: _Optional[int] = ..., children: _Optional[int] = ..., language: _Optional[str] = ...) -> None: ...

class ModifyBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: Booking
    def __init__(self, booking: _Optional[_Union[Booking, _Mapping]] = ...) -> None: ...
