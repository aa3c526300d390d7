from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class IntentName(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTENT_NAME_UNSPECIFIED: _ClassVar[IntentName]
    INTENT_NAME_GREETING: _ClassVar[IntentName]
    INTENT_NAME_GOODBYE: _ClassVar[IntentName]
    INTENT_NAME_THANKS: _ClassVar[IntentName]
    INTENT_NAME_AFFIRM: _ClassVar[IntentName]
    INTENT_NAME_DENY: _ClassVar[IntentName]
    INTENT_NAME_CHECK_AVAILABILITY: _ClassVar[IntentName]
    INTENT_NAME_ASK_PRICE: _ClassVar[IntentName]
    INTENT_NAME_MAKE_RESERVATION: _ClassVar[IntentName]
    INTENT_NAME_CANCEL_RESERVATION: _ClassVar[IntentName]
    INTENT_NAME_MODIFY_RESERVATION: _ClassVar[IntentName]
    INTENT_NAME_RESERVATION_STATUS: _ClassVar[IntentName]
    INTENT_NAME_ASK_AMENITIES: _ClassVar[IntentName]
    INTENT_NAME_ASK_LOCATION: _ClassVar[IntentName]
    INTENT_NAME_ASK_POLICIES: _ClassVar[IntentName]
    INTENT_NAME_LATE_CHECKOUT: _ClassVar[IntentName]
    INTENT_NAME_SERVICE_REQUEST: _ClassVar[IntentName]
    INTENT_NAME_REQUEST_HUMAN: _ClassVar[IntentName]
    INTENT_NAME_OUT_OF_SCOPE: _ClassVar[IntentName]

class EntityType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTITY_TYPE_UNSPECIFIED: _ClassVar[EntityType]
    ENTITY_TYPE_CHECK_IN: _ClassVar[EntityType]
    ENTITY_TYPE_CHECK_OUT: _ClassVar[EntityType]
    ENTITY_TYPE_NIGHTS: _ClassVar[EntityType]
    ENTITY_TYPE_ADULTS: _ClassVar[EntityType]
    ENTITY_TYPE_CHILDREN: _ClassVar[EntityType]
    ENTITY_TYPE_ROOM_TYPE: _ClassVar[EntityType]
    ENTITY_TYPE_BOOKING_REF: _ClassVar[EntityType]
    ENTITY_TYPE_AMENITY: _ClassVar[EntityType]
    ENTITY_TYPE_EMAIL: _ClassVar[EntityType]
    ENTITY_TYPE_PHONE: _ClassVar[EntityType]
    ENTITY_TYPE_PERSON_NAME: _ClassVar[EntityType]
INTENT_NAME_UNSPECIFIED: IntentName
INTENT_NAME_GREETING: IntentName
INTENT_NAME_GOODBYE: IntentName
INTENT_NAME_THANKS: IntentName
INTENT_NAME_AFFIRM: IntentName
INTENT_NAME_DENY: IntentName
INTENT_NAME_CHECK_AVAILABILITY: IntentName
INTENT_NAME_ASK_PRICE: IntentName
INTENT_NAME_MAKE_RESERVATION: IntentName
INTENT_NAME_CANCEL_RESERVATION: IntentName
INTENT_NAME_MODIFY_RESERVATION: IntentName
INTENT_NAME_RESERVATION_STATUS: IntentName
INTENT_NAME_ASK_AMENITIES: IntentName
INTENT_NAME_ASK_LOCATION: IntentName
INTENT_NAME_ASK_POLICIES: IntentName
INTENT_NAME_LATE_CHECKOUT: IntentName
INTENT_NAME_SERVICE_REQUEST: IntentName
INTENT_NAME_REQUEST_HUMAN: IntentName
INTENT_NAME_OUT_OF_SCOPE: IntentName
ENTITY_TYPE_UNSPECIFIED: EntityType
ENTITY_TYPE_CHECK_IN: EntityType
ENTITY_TYPE_CHECK_OUT: EntityType
ENTITY_TYPE_NIGHTS: EntityType
ENTITY_TYPE_ADULTS: EntityType
ENTITY_TYPE_CHILDREN: EntityType
ENTITY_TYPE_ROOM_TYPE: EntityType
ENTITY_TYPE_BOOKING_REF: EntityType
ENTITY_TYPE_AMENITY: EntityType
ENTITY_TYPE_EMAIL: EntityType
ENTITY_TYPE_PHONE: EntityType
ENTITY_TYPE_PERSON_NAME: EntityType
