"""Property-based fuzzing of everything the outside can send: no 5xx, no INTERNAL, no stuck worker.

- Webhooks through Envoy's public listener: WhatsApp-shaped payloads with odd texts (NUL, lone
  surrogate escapes, 17,000 characters, emoji), arbitrary JSON, deep nesting, raw bytes, any
  content type; signed correctly (with the mesh's own app secret), wrongly, or not at all.
  Whatever arrives, the answer is below 500 (Meta redelivers a 5xx forever).
- gRPC through Envoy's mesh listener: every unary RPC of nlp, pms, conversation and the
  gateway's ChannelService with fields drawn from their descriptors (dates near year 9999,
  huge and negative numbers, unknown enum values, NULs). Whatever arrives, the status is a
  clear one: never INTERNAL, UNKNOWN, DATA_LOSS or a deadline (a hung handler).
- Afterwards a guest's ordinary message is still answered: no worker got stuck.

Bounded: a fixed number of examples per target, no shrinking deadline, derandomized in CI.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor as pb_descriptor
from google.protobuf.message import Message
from hotel.channel.v1 import channel_service_pb2
from hotel.conversation.v1 import conversation_service_pb2
from hotel.nlp.v1 import nlp_service_pb2
from hotel.pms.v1 import pms_service_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from posada_common.testing import trusted_sync_channel

from tests.e2e.conftest import RunningMesh
from tests.e2e.faults import Bench

pytestmark = pytest.mark.e2e

EXAMPLES_PER_RPC = int(os.environ.get("FUZZ_EXAMPLES_PER_RPC", "12"))
WEBHOOK_EXAMPLES = int(os.environ.get("FUZZ_WEBHOOK_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES_PER_RPC,
    deadline=None,
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
BAD_CODES = {
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.DATA_LOSS,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNIMPLEMENTED,
}
RPC_TIMEOUT = 20.0

# -- values that broke things before, mixed into the random ones ---------------------------

ODD_TEXTS = [
    "",
    "\x00",
    "hola\x00mundo",
    "a" * 17000,
    "🏨" * 3000,
    "\u202e\u200b\ufeff",
    "del 31 de diciembre de 9999 al 2 de enero de 10000",
    "9999-12-31",
    "'; DROP TABLE conversations; --",
    "{{name}} %s %(x)s {0}",
]
safe_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
texts = st.one_of(safe_text, st.sampled_from(ODD_TEXTS))
INT32 = st.one_of(
    st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, -1, 1, 9999, 10000, 2**31 - 1])
)
INT64 = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, -1, 253402300799, 253402300800, -62135596801]),  # Timestamp limits
)
UINT32 = st.integers(0, 2**32 - 1)
UINT64 = st.integers(0, 2**64 - 1)
DOUBLES = st.floats(allow_nan=True, allow_infinity=True)

FD = pb_descriptor.FieldDescriptor
SCALARS: dict[int, st.SearchStrategy[Any]] = {
    FD.TYPE_STRING: texts,
    FD.TYPE_BYTES: st.binary(max_size=300),
    FD.TYPE_BOOL: st.booleans(),
    FD.TYPE_INT32: INT32,
    FD.TYPE_SINT32: INT32,
    FD.TYPE_SFIXED32: INT32,
    FD.TYPE_INT64: INT64,
    FD.TYPE_SINT64: INT64,
    FD.TYPE_SFIXED64: INT64,
    FD.TYPE_UINT32: UINT32,
    FD.TYPE_FIXED32: UINT32,
    FD.TYPE_UINT64: UINT64,
    FD.TYPE_FIXED64: UINT64,
    FD.TYPE_DOUBLE: DOUBLES,
    FD.TYPE_FLOAT: st.floats(width=32, allow_nan=True, allow_infinity=True),
}


def _date_values() -> st.SearchStrategy[dict[str, Any]]:
    """hotel.type.v1.Date: mostly plausible, often at the edges of the calendar."""
    return st.fixed_dictionaries(
        {
            "year": st.one_of(st.integers(1, 10001), st.sampled_from([0, 1, 9998, 9999, 10000])),
            "month": st.one_of(st.integers(1, 12), st.sampled_from([0, 12, 13, -1])),
            "day": st.one_of(st.integers(1, 28), st.sampled_from([0, 29, 30, 31, 32])),
        }
    )


def _repeated(field: pb_descriptor.FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def values_for(descriptor: pb_descriptor.Descriptor, depth: int = 0) -> st.SearchStrategy[dict]:
    """A strategy of {field: value} dicts for any message type (sub-messages to depth 3)."""
    if descriptor.full_name == "hotel.type.v1.Date":
        return _date_values()
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.message_type is not None:
            if field.message_type.GetOptions().map_entry or depth >= 3:
                continue
            one: st.SearchStrategy[Any] = st.deferred(
                lambda f=field: values_for(f.message_type, depth + 1)
            )
        elif field.enum_type is not None:
            known = [v.number for v in field.enum_type.values]
            one = st.one_of(st.sampled_from(known), st.integers(-5, 1000))
        else:
            one = SCALARS[field.type]
        optional[field.name] = st.lists(one, max_size=3) if _repeated(field) else one
    return st.fixed_dictionaries({}, optional=optional)


def fill(message: Message, values: dict[str, Any]) -> Message:
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if _repeated(field):
            if field.message_type is not None:
                for item in value:
                    fill(target.add(), item)
            else:
                target.extend(value)
        elif field.message_type is not None:
            fill(target, value)
            if not value:
                target.SetInParent()
        else:
            setattr(message, name, value)
    return message


def _unary_methods() -> list[tuple[str, pb_descriptor.MethodDescriptor]]:
    found = []
    for module, service, short in (
        (nlp_service_pb2, "NlpService", "nlp"),
        (pms_service_pb2, "PmsService", "pms"),
        (conversation_service_pb2, "ConversationService", "conversation"),
        (channel_service_pb2, "ChannelService", "gateway"),
    ):
        svc = module.DESCRIPTOR.services_by_name[service]
        for method in svc.methods:
            if not method.client_streaming and not method.server_streaming:
                found.append((short, method))
    return found


METHODS = _unary_methods()


def _message_class(descriptor: pb_descriptor.Descriptor) -> type[Message]:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor)


@pytest.fixture(scope="module")
def mesh_channel(running_mesh: RunningMesh) -> Any:
    channel = trusted_sync_channel(
        running_mesh.mesh_address,
        options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
        ],
    )
    yield channel
    channel.close()


@pytest.mark.parametrize(("service", "method"), METHODS, ids=[f"{s}.{m.name}" for s, m in METHODS])
def test_no_rpc_answers_internal_whatever_its_fields(
    mesh_channel: Any, service: str, method: pb_descriptor.MethodDescriptor
) -> None:
    request_class = _message_class(method.input_type)
    response_class = _message_class(method.output_type)
    call = mesh_channel.unary_unary(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=response_class.FromString,
    )

    @FUZZ
    @given(values_for(method.input_type))
    def check(values: dict[str, Any]) -> None:
        request = fill(request_class(), values)
        try:
            call(request, timeout=RPC_TIMEOUT)
        except grpc.RpcError as err:
            code = err.code()  # type: ignore[attr-defined]
            assert code not in BAD_CODES, (
                f"{method.full_name} answered {code.name}: {err.details()}\n"  # type: ignore[attr-defined]
                f"request: {str(request)[:1500]}"
            )

    check()


# -- webhooks -------------------------------------------------------------------------------


def _app_secret(mesh: RunningMesh) -> str:
    """The secret the running gateway checks signatures with (read from its environment)."""
    pid = mesh.state()["processes"]["gateway"]["pid"]
    with open(f"/proc/{pid}/environ", "rb") as fh:
        for entry in fh.read().split(b"\0"):
            if entry.startswith(b"WHATSAPP_APP_SECRET="):
                return entry.split(b"=", 1)[1].decode()
    raise AssertionError("gateway has no WHATSAPP_APP_SECRET")


def _envelope(messages: Any, contacts: Any = None, field: str = "messages") -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550101234", "phone_number_id": "100000000000001"},
    }
    if contacts is not None:
        value["contacts"] = contacts
    value["messages"] = messages
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "2345678901234", "changes": [{"field": field, "value": value}]}],
    }


json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), safe_text
)
any_json = st.recursive(
    json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(safe_text, inner, max_size=4)
    ),
    max_leaves=20,
)
wa_ids = st.one_of(
    st.from_regex(r"\A34[0-9]{9}\Z"), st.sampled_from(["", "0", "+34 600", "a" * 300])
)


@st.composite
def whatsapp_message(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(["text", "interactive", "reaction", "image", "audio", "unknown", "button"])
    )
    msg: dict[str, Any] = {
        "from": draw(wa_ids),
        "id": draw(st.one_of(st.just(f"wamid.fuzz.{uuid.uuid4().hex}"), safe_text)),
        "timestamp": draw(st.one_of(st.just(str(int(time.time()))), safe_text, st.integers())),
        "type": kind,
    }
    if kind == "text":
        msg["text"] = {"body": draw(texts)}
    elif kind == "interactive":
        msg["interactive"] = {
            "type": "button_reply",
            "button_reply": {"id": draw(texts), "title": draw(texts)},
        }
    elif kind == "reaction":
        msg["reaction"] = {"message_id": draw(safe_text), "emoji": draw(texts)}
    elif kind in ("image", "audio"):
        msg[kind] = {"id": draw(safe_text), "mime_type": draw(safe_text)}
    if draw(st.booleans()):
        msg[draw(safe_text)] = draw(any_json)  # fields Meta may add tomorrow
    return msg


@st.composite
def webhook_body(draw: st.DrawFn) -> bytes:
    shape = draw(
        st.sampled_from(["whatsapp", "whatsapp", "whatsapp", "json", "deep", "surrogate", "raw"])
    )
    if shape == "whatsapp":
        messages = draw(st.lists(whatsapp_message(), min_size=1, max_size=3))
        contacts = [{"profile": {"name": draw(texts)}, "wa_id": m["from"]} for m in messages]
        return json.dumps(_envelope(messages, contacts), ensure_ascii=draw(st.booleans())).encode()
    if shape == "json":
        return json.dumps(draw(any_json)).encode()
    if shape == "deep":
        depth = draw(st.integers(50, 3000))
        inner = (
            "[" * depth + "]" * depth
            if draw(st.booleans())
            else '{"a":' * depth + "1" + "}" * depth
        )
        return json.dumps(_envelope([], None))[:-1].encode() + b',"x":' + inner.encode() + b"}"
    if shape == "surrogate":
        wa = draw(st.from_regex(r"\A34[0-9]{9}\Z"))
        body = json.dumps(
            _envelope(
                [
                    {
                        "from": wa,
                        "id": f"wamid.fuzz.{uuid.uuid4().hex}",
                        "timestamp": "1",
                        "type": "text",
                        "text": {"body": "PLACEHOLDER"},
                    }
                ],
                [{"profile": {"name": "x"}, "wa_id": wa}],
            )
        )
        odd = draw(
            st.sampled_from(["\\ud83d", "\\udc00", "\\ud83d\\ud83d", "\\u0000", "ok \\ud83d!"])
        )
        return body.replace("PLACEHOLDER", odd).encode()
    return draw(st.binary(max_size=2000))


@pytest.fixture(scope="module")
def webhook_url(running_mesh: RunningMesh) -> str:
    return f"{running_mesh.public_url}/webhooks/whatsapp"


def test_no_webhook_answers_5xx_whatever_is_posted(
    running_mesh: RunningMesh, webhook_url: str
) -> None:
    secret = _app_secret(running_mesh).encode()
    statuses: dict[int, int] = {}

    @settings(
        max_examples=WEBHOOK_EXAMPLES,
        deadline=None,
        derandomize=os.environ.get("CI") == "true",
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(
        body=webhook_body(),
        signing=st.sampled_from(["valid", "valid", "valid", "invalid", "missing", "garbage"]),
        content_type=st.sampled_from(
            ["application/json", "application/json; charset=utf-8", "text/plain", "", "x/y"]
        ),
    )
    def check(body: bytes, signing: str, content_type: str) -> None:
        headers = {"User-Agent": "facebookexternalua"}
        if content_type:
            headers["Content-Type"] = content_type
        if signing == "valid":
            headers["X-Hub-Signature-256"] = (
                "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            )
        elif signing == "invalid":
            headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
        elif signing == "garbage":
            headers["X-Hub-Signature-256"] = "sha256=\u00e9\u00e9"
        request = urllib.request.Request(webhook_url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=20) as reply:
                status = reply.status
        except urllib.error.HTTPError as err:
            status = err.code
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, (
            f"{status} for a {signing}-signed body of {len(body)} bytes: {body[:300]!r}"
        )

    check()
    print(f"webhook statuses: {dict(sorted(statuses.items()))}")
    assert statuses.get(200), "no fuzzed webhook was accepted: the fuzzer never got past the door"


def test_after_the_fuzz_a_guest_is_still_answered(running_mesh: RunningMesh) -> None:
    bench = Bench(running_mesh)
    guest = "3468" + str(uuid.uuid4().int)[:8]
    wamid = bench.say(guest, "hola, ¿tenéis parking?")
    bench.assert_answered_exactly_once([wamid], "a guest after the fuzz")
    bench.wait_serving()
