from hotel.type.v1 import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ParseRequest(_message.Message):
    __slots__ = ("text", "language_hint", "reference_date", "time_zone", "expected_intent")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_HINT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_INTENT_FIELD_NUMBER: _ClassVar[int]
    text: str
    language_hint: str
    reference_date: _date_pb2.Date
    time_zone: str
    expected_intent: str
    def __init__(self, text: _Optional[str] = ..., language_hint: _Optional[str] = ..., reference_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., time_zone: _Optional[str] = ..., expected_intent: _Optional[str] = ...) -> None: ...

class Intent(_message.Message):
    __slots__ = ("name", "confidence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    confidence: float
    def __init__(self, name: _Optional[str] = ..., confidence: _Optional[float] = ...) -> None: ...

class Entity(_message.Message):
    __slots__ = ("type", "value", "text", "start", "end", "confidence")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    type: str
    value: str
    text: str
    start: int
    end: int
    confidence: float
    def __init__(self, type: _Optional[str] = ..., value: _Optional[str] = ..., text: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ..., confidence: _Optional[float] = ...) -> None: ...

class ParseResponse(_message.Message):
    __slots__ = ("language", "intent", "intent_ranking", "entities", "model_version")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    INTENT_RANKING_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    language: str
    intent: Intent
    intent_ranking: _containers.RepeatedCompositeFieldContainer[Intent]
    entities: _containers.RepeatedCompositeFieldContainer[Entity]
    model_version: str
    def __init__(self, language: _Optional[str] = ..., intent: _Optional[_Union[Intent, _Mapping]] = ..., intent_ranking: _Optional[_Iterable[_Union[Intent, _Mapping]]] = ..., entities: _Optional[_Iterable[_Union[Entity, _Mapping]]] = ..., model_version: _Optional[str] = ...) -> None: ...

class ParseBatchRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ParseRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[ParseRequest, _Mapping]]] = ...) -> None: ...

class ParseBatchResponse(_message.Message):
    __slots__ = ("responses",)
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    responses: _containers.RepeatedCompositeFieldContainer[ParseResponse]
    def __init__(self, responses: _Optional[_Iterable[_Union[ParseResponse, _Mapping]]] = ...) -> None: ...

class GetModelInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetModelInfoResponse(_message.Message):
    __slots__ = ("model_version", "data_hash", "languages", "intents", "out_of_scope_threshold", "engine")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATA_HASH_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    INTENTS_FIELD_NUMBER: _ClassVar[int]
    OUT_OF_SCOPE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    data_hash: str
    languages: _containers.RepeatedScalarFieldContainer[str]
    intents: _containers.RepeatedScalarFieldContainer[str]
    out_of_scope_threshold: float
    engine: str
    def __init__(self, model_version: _Optional[str] = ..., data_hash: _Optional[str] = ..., languages: _Optional[_Iterable[str]] = ..., intents: _Optional[_Iterable[str]] = ..., out_of_scope_threshold: _Optional[float] = ..., engine: _Optional[str] = ...) -> None: ...
