import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_WHATSAPP: _ClassVar[Channel]
    CHANNEL_GMAIL: _ClassVar[Channel]

class MessageKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_KIND_UNSPECIFIED: _ClassVar[MessageKind]
    MESSAGE_KIND_TEXT: _ClassVar[MessageKind]
    MESSAGE_KIND_AUDIO: _ClassVar[MessageKind]
    MESSAGE_KIND_IMAGE: _ClassVar[MessageKind]
    MESSAGE_KIND_DOCUMENT: _ClassVar[MessageKind]
    MESSAGE_KIND_VIDEO: _ClassVar[MessageKind]
    MESSAGE_KIND_STICKER: _ClassVar[MessageKind]
    MESSAGE_KIND_LOCATION: _ClassVar[MessageKind]
    MESSAGE_KIND_INTERACTIVE_REPLY: _ClassVar[MessageKind]
    MESSAGE_KIND_TEMPLATE_BUTTON: _ClassVar[MessageKind]
    MESSAGE_KIND_REACTION: _ClassVar[MessageKind]
    MESSAGE_KIND_CONTACTS: _ClassVar[MessageKind]
    MESSAGE_KIND_UNSUPPORTED: _ClassVar[MessageKind]

class DeliveryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATUS_UNSPECIFIED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_QUEUED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_SENT: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_DELIVERED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_READ: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_PLAYED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_FAILED: _ClassVar[DeliveryStatus]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_WHATSAPP: Channel
CHANNEL_GMAIL: Channel
MESSAGE_KIND_UNSPECIFIED: MessageKind
MESSAGE_KIND_TEXT: MessageKind
MESSAGE_KIND_AUDIO: MessageKind
MESSAGE_KIND_IMAGE: MessageKind
MESSAGE_KIND_DOCUMENT: MessageKind
MESSAGE_KIND_VIDEO: MessageKind
MESSAGE_KIND_STICKER: MessageKind
MESSAGE_KIND_LOCATION: MessageKind
MESSAGE_KIND_INTERACTIVE_REPLY: MessageKind
MESSAGE_KIND_TEMPLATE_BUTTON: MessageKind
MESSAGE_KIND_REACTION: MessageKind
MESSAGE_KIND_CONTACTS: MessageKind
MESSAGE_KIND_UNSUPPORTED: MessageKind
DELIVERY_STATUS_UNSPECIFIED: DeliveryStatus
DELIVERY_STATUS_QUEUED: DeliveryStatus
DELIVERY_STATUS_SENT: DeliveryStatus
DELIVERY_STATUS_DELIVERED: DeliveryStatus
DELIVERY_STATUS_READ: DeliveryStatus
DELIVERY_STATUS_PLAYED: DeliveryStatus
DELIVERY_STATUS_FAILED: DeliveryStatus

class Guest(_message.Message):
    __slots__ = ("id", "phone", "email", "display_name", "business_scoped_user_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_SCOPED_USER_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    phone: str
    email: str
    display_name: str
    business_scoped_user_id: str
    def __init__(self, id: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., display_name: _Optional[str] = ..., business_scoped_user_id: _Optional[str] = ...) -> None: ...

class Media(_message.Message):
    __slots__ = ("media_id", "mime_type", "data", "sha256", "filename", "caption", "voice")
    MEDIA_ID_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    media_id: str
    mime_type: str
    data: bytes
    sha256: str
    filename: str
    caption: str
    voice: bool
    def __init__(self, media_id: _Optional[str] = ..., mime_type: _Optional[str] = ..., data: _Optional[bytes] = ..., sha256: _Optional[str] = ..., filename: _Optional[str] = ..., caption: _Optional[str] = ..., voice: _Optional[bool] = ...) -> None: ...

class Location(_message.Message):
    __slots__ = ("latitude", "longitude", "name", "address")
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    latitude: float
    longitude: float
    name: str
    address: str
    def __init__(self, latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., name: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class InteractiveReply(_message.Message):
    __slots__ = ("id", "title", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    description: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class Reaction(_message.Message):
    __slots__ = ("message_id", "emoji")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    EMOJI_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    emoji: str
    def __init__(self, message_id: _Optional[str] = ..., emoji: _Optional[str] = ...) -> None: ...

class InboundMessage(_message.Message):
    __slots__ = ("message_id", "channel", "hotel_id", "conversation_id", "business_account_id", "guest", "sent_at", "kind", "text", "media", "location", "interactive_reply", "reaction", "reply_to_message_id", "subject", "thread_id", "provider_type")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    GUEST_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    INTERACTIVE_REPLY_FIELD_NUMBER: _ClassVar[int]
    REACTION_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    channel: Channel
    hotel_id: str
    conversation_id: str
    business_account_id: str
    guest: Guest
    sent_at: _timestamp_pb2.Timestamp
    kind: MessageKind
    text: str
    media: Media
    location: Location
    interactive_reply: InteractiveReply
    reaction: Reaction
    reply_to_message_id: str
    subject: str
    thread_id: str
    provider_type: str
    def __init__(self, message_id: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., hotel_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., business_account_id: _Optional[str] = ..., guest: _Optional[_Union[Guest, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[MessageKind, str]] = ..., text: _Optional[str] = ..., media: _Optional[_Union[Media, _Mapping]] = ..., location: _Optional[_Union[Location, _Mapping]] = ..., interactive_reply: _Optional[_Union[InteractiveReply, _Mapping]] = ..., reaction: _Optional[_Union[Reaction, _Mapping]] = ..., reply_to_message_id: _Optional[str] = ..., subject: _Optional[str] = ..., thread_id: _Optional[str] = ..., provider_type: _Optional[str] = ...) -> None: ...

class Button(_message.Message):
    __slots__ = ("id", "title")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class ListRow(_message.Message):
    __slots__ = ("id", "title", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    description: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ListSection(_message.Message):
    __slots__ = ("title", "rows")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    title: str
    rows: _containers.RepeatedCompositeFieldContainer[ListRow]
    def __init__(self, title: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[ListRow, _Mapping]]] = ...) -> None: ...

class TextReply(_message.Message):
    __slots__ = ("body", "preview_url")
    BODY_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_URL_FIELD_NUMBER: _ClassVar[int]
    body: str
    preview_url: bool
    def __init__(self, body: _Optional[str] = ..., preview_url: _Optional[bool] = ...) -> None: ...

class ButtonsReply(_message.Message):
    __slots__ = ("body", "buttons", "header", "footer")
    BODY_FIELD_NUMBER: _ClassVar[int]
    BUTTONS_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    FOOTER_FIELD_NUMBER: _ClassVar[int]
    body: str
    buttons: _containers.RepeatedCompositeFieldContainer[Button]
    header: str
    footer: str
    def __init__(self, body: _Optional[str] = ..., buttons: _Optional[_Iterable[_Union[Button, _Mapping]]] = ..., header: _Optional[str] = ..., footer: _Optional[str] = ...) -> None: ...

class ListReply(_message.Message):
    __slots__ = ("body", "button_label", "sections", "header", "footer")
    BODY_FIELD_NUMBER: _ClassVar[int]
    BUTTON_LABEL_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    FOOTER_FIELD_NUMBER: _ClassVar[int]
    body: str
    button_label: str
    sections: _containers.RepeatedCompositeFieldContainer[ListSection]
    header: str
    footer: str
    def __init__(self, body: _Optional[str] = ..., button_label: _Optional[str] = ..., sections: _Optional[_Iterable[_Union[ListSection, _Mapping]]] = ..., header: _Optional[str] = ..., footer: _Optional[str] = ...) -> None: ...

class AudioReply(_message.Message):
    __slots__ = ("data", "mime_type", "transcript")
    DATA_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    mime_type: str
    transcript: str
    def __init__(self, data: _Optional[bytes] = ..., mime_type: _Optional[str] = ..., transcript: _Optional[str] = ...) -> None: ...

class LocationReply(_message.Message):
    __slots__ = ("latitude", "longitude", "name", "address")
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    latitude: float
    longitude: float
    name: str
    address: str
    def __init__(self, latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., name: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class Reply(_message.Message):
    __slots__ = ("reply_id", "text", "buttons", "list", "audio", "location")
    REPLY_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    BUTTONS_FIELD_NUMBER: _ClassVar[int]
    LIST_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    reply_id: str
    text: TextReply
    buttons: ButtonsReply
    list: ListReply
    audio: AudioReply
    location: LocationReply
    def __init__(self, reply_id: _Optional[str] = ..., text: _Optional[_Union[TextReply, _Mapping]] = ..., buttons: _Optional[_Union[ButtonsReply, _Mapping]] = ..., list: _Optional[_Union[ListReply, _Mapping]] = ..., audio: _Optional[_Union[AudioReply, _Mapping]] = ..., location: _Optional[_Union[LocationReply, _Mapping]] = ...) -> None: ...
