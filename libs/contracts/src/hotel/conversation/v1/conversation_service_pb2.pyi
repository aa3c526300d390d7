import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hotel.channel.v1 import message_pb2 as _message_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConversationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONVERSATION_STATE_UNSPECIFIED: _ClassVar[ConversationState]
    CONVERSATION_STATE_ACTIVE: _ClassVar[ConversationState]
    CONVERSATION_STATE_HANDED_OFF: _ClassVar[ConversationState]

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_INBOUND: _ClassVar[Direction]
    DIRECTION_OUTBOUND: _ClassVar[Direction]

class Author(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTHOR_UNSPECIFIED: _ClassVar[Author]
    AUTHOR_GUEST: _ClassVar[Author]
    AUTHOR_AGENT: _ClassVar[Author]
    AUTHOR_STAFF: _ClassVar[Author]

class TaskKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_KIND_UNSPECIFIED: _ClassVar[TaskKind]
    TASK_KIND_LATE_CHECKOUT: _ClassVar[TaskKind]
    TASK_KIND_SERVICE_REQUEST: _ClassVar[TaskKind]
    TASK_KIND_HANDOFF: _ClassVar[TaskKind]
    TASK_KIND_UNANSWERED_MESSAGE: _ClassVar[TaskKind]

class TaskStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATUS_UNSPECIFIED: _ClassVar[TaskStatus]
    TASK_STATUS_OPEN: _ClassVar[TaskStatus]
    TASK_STATUS_DONE: _ClassVar[TaskStatus]
CONVERSATION_STATE_UNSPECIFIED: ConversationState
CONVERSATION_STATE_ACTIVE: ConversationState
CONVERSATION_STATE_HANDED_OFF: ConversationState
DIRECTION_UNSPECIFIED: Direction
DIRECTION_INBOUND: Direction
DIRECTION_OUTBOUND: Direction
AUTHOR_UNSPECIFIED: Author
AUTHOR_GUEST: Author
AUTHOR_AGENT: Author
AUTHOR_STAFF: Author
TASK_KIND_UNSPECIFIED: TaskKind
TASK_KIND_LATE_CHECKOUT: TaskKind
TASK_KIND_SERVICE_REQUEST: TaskKind
TASK_KIND_HANDOFF: TaskKind
TASK_KIND_UNANSWERED_MESSAGE: TaskKind
TASK_STATUS_UNSPECIFIED: TaskStatus
TASK_STATUS_OPEN: TaskStatus
TASK_STATUS_DONE: TaskStatus

class Conversation(_message.Message):
    __slots__ = ("conversation_id", "hotel_id", "channel", "guest", "language", "state", "handoff_reason", "created_at", "last_message_at", "business_account_id")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    GUEST_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_AT_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    hotel_id: str
    channel: _message_pb2.Channel
    guest: _message_pb2.Guest
    language: str
    state: ConversationState
    handoff_reason: str
    created_at: _timestamp_pb2.Timestamp
    last_message_at: _timestamp_pb2.Timestamp
    business_account_id: str
    def __init__(self, conversation_id: _Optional[str] = ..., hotel_id: _Optional[str] = ..., channel: _Optional[_Union[_message_pb2.Channel, str]] = ..., guest: _Optional[_Union[_message_pb2.Guest, _Mapping]] = ..., language: _Optional[str] = ..., state: _Optional[_Union[ConversationState, str]] = ..., handoff_reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_message_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., business_account_id: _Optional[str] = ...) -> None: ...

class ConversationMessage(_message.Message):
    __slots__ = ("id", "provider_message_id", "direction", "author", "kind", "text", "intent", "status", "created_at", "reply_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REPLY_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    provider_message_id: str
    direction: Direction
    author: Author
    kind: _message_pb2.MessageKind
    text: str
    intent: str
    status: _message_pb2.DeliveryStatus
    created_at: _timestamp_pb2.Timestamp
    reply_id: str
    def __init__(self, id: _Optional[str] = ..., provider_message_id: _Optional[str] = ..., direction: _Optional[_Union[Direction, str]] = ..., author: _Optional[_Union[Author, str]] = ..., kind: _Optional[_Union[_message_pb2.MessageKind, str]] = ..., text: _Optional[str] = ..., intent: _Optional[str] = ..., status: _Optional[_Union[_message_pb2.DeliveryStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reply_id: _Optional[str] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("task_id", "conversation_id", "hotel_id", "kind", "status", "description", "booking_reference", "created_at", "completed_at", "completed_by", "note")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BOOKING_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    conversation_id: str
    hotel_id: str
    kind: TaskKind
    status: TaskStatus
    description: str
    booking_reference: str
    created_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    completed_by: str
    note: str
    def __init__(self, task_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., hotel_id: _Optional[str] = ..., kind: _Optional[_Union[TaskKind, str]] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., description: _Optional[str] = ..., booking_reference: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_by: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class HandleMessageRequest(_message.Message):
    __slots__ = ("message", "attempt", "final_attempt")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    FINAL_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    message: _message_pb2.InboundMessage
    attempt: int
    final_attempt: bool
    def __init__(self, message: _Optional[_Union[_message_pb2.InboundMessage, _Mapping]] = ..., attempt: _Optional[int] = ..., final_attempt: _Optional[bool] = ...) -> None: ...

class HandleMessageResponse(_message.Message):
    __slots__ = ("conversation_id", "replies", "language", "state", "duplicate", "retry_later", "retry_after_ms")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    REPLIES_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    RETRY_LATER_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    replies: _containers.RepeatedCompositeFieldContainer[_message_pb2.Reply]
    language: str
    state: ConversationState
    duplicate: bool
    retry_later: bool
    retry_after_ms: int
    def __init__(self, conversation_id: _Optional[str] = ..., replies: _Optional[_Iterable[_Union[_message_pb2.Reply, _Mapping]]] = ..., language: _Optional[str] = ..., state: _Optional[_Union[ConversationState, str]] = ..., duplicate: _Optional[bool] = ..., retry_later: _Optional[bool] = ..., retry_after_ms: _Optional[int] = ...) -> None: ...

class RecordDeliveryRequest(_message.Message):
    __slots__ = ("conversation_id", "reply_id", "provider_message_id", "status", "error")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    reply_id: str
    provider_message_id: str
    status: _message_pb2.DeliveryStatus
    error: str
    def __init__(self, conversation_id: _Optional[str] = ..., reply_id: _Optional[str] = ..., provider_message_id: _Optional[str] = ..., status: _Optional[_Union[_message_pb2.DeliveryStatus, str]] = ..., error: _Optional[str] = ...) -> None: ...

class RecordDeliveryResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetConversationRequest(_message.Message):
    __slots__ = ("conversation_id", "message_limit")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    message_limit: int
    def __init__(self, conversation_id: _Optional[str] = ..., message_limit: _Optional[int] = ...) -> None: ...

class GetConversationResponse(_message.Message):
    __slots__ = ("conversation", "messages")
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    messages: _containers.RepeatedCompositeFieldContainer[ConversationMessage]
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ..., messages: _Optional[_Iterable[_Union[ConversationMessage, _Mapping]]] = ...) -> None: ...

class ListConversationsRequest(_message.Message):
    __slots__ = ("hotel_id", "state", "since", "page_size", "page_token")
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    hotel_id: str
    state: ConversationState
    since: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, hotel_id: _Optional[str] = ..., state: _Optional[_Union[ConversationState, str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListConversationsResponse(_message.Message):
    __slots__ = ("conversations", "next_page_token")
    CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    conversations: _containers.RepeatedCompositeFieldContainer[Conversation]
    next_page_token: str
    def __init__(self, conversations: _Optional[_Iterable[_Union[Conversation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReplyAsStaffRequest(_message.Message):
    __slots__ = ("conversation_id", "staff_id", "text", "idempotency_key")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    staff_id: str
    text: str
    idempotency_key: str
    def __init__(self, conversation_id: _Optional[str] = ..., staff_id: _Optional[str] = ..., text: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReplyAsStaffResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: ConversationMessage
    def __init__(self, message: _Optional[_Union[ConversationMessage, _Mapping]] = ...) -> None: ...

class ReleaseHandoffRequest(_message.Message):
    __slots__ = ("conversation_id", "staff_id")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    staff_id: str
    def __init__(self, conversation_id: _Optional[str] = ..., staff_id: _Optional[str] = ...) -> None: ...

class ReleaseHandoffResponse(_message.Message):
    __slots__ = ("conversation",)
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ...) -> None: ...

class ListTasksRequest(_message.Message):
    __slots__ = ("hotel_id", "status", "page_size", "page_token")
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    hotel_id: str
    status: TaskStatus
    page_size: int
    page_token: str
    def __init__(self, hotel_id: _Optional[str] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_page_token")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[Task]
    next_page_token: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CompleteTaskRequest(_message.Message):
    __slots__ = ("task_id", "staff_id", "note")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    staff_id: str
    note: str
    def __init__(self, task_id: _Optional[str] = ..., staff_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class CompleteTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: Task
    def __init__(self, task: _Optional[_Union[Task, _Mapping]] = ...) -> None: ...

class OpenTaskRequest(_message.Message):
    __slots__ = ("conversation_id", "hotel_id", "kind", "description", "message", "idempotency_key")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    HOTEL_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    hotel_id: str
    kind: TaskKind
    description: str
    message: _message_pb2.InboundMessage
    idempotency_key: str
    def __init__(self, conversation_id: _Optional[str] = ..., hotel_id: _Optional[str] = ..., kind: _Optional[_Union[TaskKind, str]] = ..., description: _Optional[str] = ..., message: _Optional[_Union[_message_pb2.InboundMessage, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class OpenTaskResponse(_message.Message):
    __slots__ = ("task", "language")
    TASK_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    task: Task
    language: str
    def __init__(self, task: _Optional[_Union[Task, _Mapping]] = ..., language: _Optional[str] = ...) -> None: ...
