"""The channel port: what every channel adapter (WhatsApp, e-mail, ...) provides to the gateway.

The gateway's pipeline is channel-neutral:

    webhook / poller ──▶ adapter.parse ──▶ durable inbox (Redis stream, `store.py`)
    inbox ──▶ worker (stream consumer) ──▶ turn: adapter.prepare ──▶ ConversationService
          ──▶ OutboundPipeline: adapter.render ──▶ adapter.send (with retries) ──▶ record ──▶ status

An adapter knows its provider's protocol and rules and nothing else: it never touches Redis
directly (state goes through the `GatewayStore` it is given), never calls conversation, never
decides whether a message is retried later (it raises a `ChannelError` whose `retryable` says
so). The model is Rasa's InputChannel/OutputChannel split, written for this gateway: the base
class renders every reply as plain text, so an adapter only overrides what its channel can show
better (buttons, lists, voice notes, HTML e-mail).

How to write an adapter (e-mail is the worked example in the docstrings below):

1. Subclass `ChannelAdapter`, set `channel` to the `hotel.channel.v1.Channel` value and `name`.
2. Inbound: `routes()` returns the aiohttp routes of the public webhook (e.g. `/webhooks/gmail`);
   the handler verifies the request (signature / OIDC token: 401 and nothing stored otherwise),
   turns what arrived into `InboundMessage`s (`parse`) and hands them to `inbox.accept(...)` —
   that call dedupes by `message_id` and appends atomically; answer 2xx only after it returned.
   Channels without push (IMAP IDLE, periodic sweeps) run their loop from `start()` and call the
   same `inbox.accept(...)`.
3. Outbound: `render()` turns a `Reply` into `OutboundPart`s; `send()` delivers one part to a
   `Destination` and returns a `SendResult` or raises `ChannelError`.
4. Register it: `registry.register(adapter)` in `main.register`. The worker, `ChannelService`
   and the status forwarder find it by `InboundMessage.channel` / `SendMessageRequest.channel`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from hotel.channel.v1 import message_pb2 as m

# The longest guest text conversation reads. An adapter cuts longer texts to this length and
# passes the note TRUNCATED for the message to `Inbox.accept`; the guest is then told that only
# the first part was read.
TEXT_MAX = 16384
TRUNCATED = "truncated"

# ── values passed across the port ────────────────────────────────────────────────────────────


@dataclass(slots=True)
class Choice:
    """One option the guest can pick (a button, a list row, a numbered line)."""

    id: str
    title: str


@dataclass(slots=True)
class OutboundPart:
    """One provider message to send, produced by `ChannelAdapter.render`.

    `kind` is the adapter's own vocabulary; the pipeline only looks at three things:
    `kind == "audio"` (the bytes are not kept in the outbound record), `choices` (when the part
    went out as text, a typed "2" from the guest is later mapped back to `choices[1].id`) and
    `fallback_text` (what `send` may send instead when the rich form is refused).
    `payload` is opaque to the pipeline and must be JSON-serialisable (parts can be held and
    sent later: see `SendResult.outcome == "deferred"`). E-mail would put e.g.
    `{"text": ..., "html": ...}` there.
    """

    kind: str  # text | interactive | audio | location | template | adapter-defined
    payload: dict[str, Any] = field(default_factory=dict)
    audio: bytes = b""
    audio_mime: str = ""
    fallback_text: str = ""
    choices: list[Choice] = field(default_factory=list)


@dataclass(slots=True)
class Destination:
    """Where a reply goes, channel-neutral; built by `ChannelAdapter.destination_for`.

    For e-mail: `address` is the guest's address (`Reply-To` wins over `From`), `account` the
    hotel's mailbox, `subject` the guest's subject (the adapter adds "Re: "), `thread_id` the
    provider thread (Gmail `threadId`), `in_reply_to` the guest's RFC 822 Message-ID and
    `references` the References chain (space-separated) so the answer lands in the same thread.
    """

    channel: int
    account: str  # our business account: WhatsApp phone_number_id, hotel mailbox
    guest_id: str  # InboundMessage.guest.id
    phone: str = ""
    bsuid: str = ""
    address: str = ""  # e-mail address
    display_name: str = ""
    conversation_id: str = ""
    hotel_id: str = ""
    language: str = ""
    subject: str = ""
    thread_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    # Unix time the guest wrote the message being answered (0: not a reply). A lower bound of
    # when they last wrote: WhatsApp's 24-hour window needs no lookup while it is recent.
    guest_wrote_at: int = 0

    @property
    def key(self) -> str:
        """Stable recipient key (rate limits, records): phone, else address, else guest id."""
        return self.phone or self.address or self.guest_id

    def to_dict(self) -> dict[str, Any]:
        """What is stored with records and held parts (the per-turn hint is left out)."""
        return {k: v for k, v in asdict(self).items() if v not in ("", 0) and k != "guest_wrote_at"}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Destination:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(slots=True)
class SendResult:
    """What `ChannelAdapter.send` did with a part.

    outcome:
      * "sent" — the part itself went out; `provider_id` is its id (WhatsApp wamid, Gmail id,
        SMTP Message-ID) and delivery statuses will refer to it.
      * "fallback_text" — the rich form was refused and `part.fallback_text` went out instead.
      * "deferred" — the channel cannot deliver now (WhatsApp: 24-hour window closed); the
        adapter may have sent a notice instead (then `provider_id` is the notice's id, else
        empty). The pipeline holds the part and every later part of the same turn and offers
        them again when the guest writes (see `ChannelAdapter.can_deliver_now`).
    """

    provider_id: str
    outcome: str = "sent"


class ChannelError(Exception):
    """A send/receive step that failed. Subclasses classify it; the pipeline acts on:

    * `retryable` — True: the whole message is retried later from the durable inbox.
    * `kind == "auth"` — credentials broken: treated as retryable (an operator fixes them and
      the message goes through) but the adapter should pause its own calls meanwhile.
    * otherwise permanent: the part is recorded FAILED and the turn goes on.
    * `code` — provider error code for records and metrics (0 when none).
    """

    code: int = 0

    @property
    def kind(self) -> str:
        return "permanent"

    @property
    def retryable(self) -> bool:
        return False


# ── inbound helpers ──────────────────────────────────────────────────────────────────────────


class Inbox(ABC):
    """What an inbound route hands parsed messages to (implemented over `GatewayStore`)."""

    @abstractmethod
    async def accept(
        self, messages: Sequence[m.InboundMessage], notes: Mapping[str, str] | None = None
    ) -> list[bool]:
        """Dedupe by `message_id` and append each new message to the durable inbox, atomically
        per message. Returns, per message, True when it was new. Raises when the store is down
        (the route must then answer with a status that makes the provider redeliver).
        `notes` (message id → "truncated") travel with the entry: the turn then tells the guest
        that only the first part of an over-long text was read."""


@dataclass(slots=True)
class TurnState:
    """What the gateway already knows when a guest message is about to be handled.

    `menu` — the options of the last numbered-text menu sent in this conversation (empty when
    none); `first_delivery` — True the first time this message id is handled (read receipts and
    typing indicators are sent only then)."""

    menu: list[Choice] = field(default_factory=list)
    first_delivery: bool = True


# ── the adapter ──────────────────────────────────────────────────────────────────────────────

_LABELS = {
    "pick": {
        "es": "Responde con el número de tu opción.",
        "pt": "Responda com o número da sua opção.",
        "en": "Reply with the number of your choice.",
    },
    "map": {"es": "Mapa", "pt": "Mapa", "en": "Map"},
}


def label(name: str, language: str) -> str:
    table = _LABELS[name]
    return table.get((language or "en")[:2].lower(), table["en"])


def match_choice(text: str, choices: Sequence[Choice]) -> Choice | None:
    """Map a typed answer to an offered option: its number ("2", "2.", "#2") or its exact title."""
    answer = text.strip().lower().rstrip(".)").lstrip("#")
    if answer.isdigit():
        number = int(answer)
        return choices[number - 1] if 1 <= number <= len(choices) else None
    for choice in choices:
        if choice.title.strip().lower() == answer:
            return choice
    return None


class ChannelAdapter(ABC):
    """One channel behind the gateway's port. Subclasses set `channel` and `name` and implement
    `routes`, `destination_for`, `destination_to` and `send`; everything else has a working
    text-only default."""

    channel: ClassVar[int]  # hotel.channel.v1.Channel value
    name: ClassVar[str]  # short name for logs and metrics ("whatsapp", "email")

    # ── lifecycle ──
    async def start(self) -> None:  # noqa: B027 - optional hook
        """Start background work (IMAP IDLE loop, Gmail watch renewal, sweeps). Called once the
        store answers; must return promptly (spawn tasks)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop what `start` started; bounded in time."""

    # ── inbound ──
    @abstractmethod
    def routes(self, inbox: Inbox) -> list[Any]:
        """aiohttp route definitions of this channel's public webhook(s), e.g.
        `[web.post("/webhooks/gmail", handler)]`; empty for channels that only poll.

        The handler must: bound the body size (413), verify authenticity before anything else
        (401/403, nothing stored), parse (`InboundMessage` per guest message; 400 only for a
        request that is wholly unusable — one bad item never loses the others), call
        `await inbox.accept(messages)` and answer 2xx only after it returned (503 when it raised).

        Every `InboundMessage` must carry: `message_id` (provider id, the idempotency key; for
        e-mail the provider message id, not the RFC 822 Message-ID which senders can reuse),
        `channel`, `hotel_id`, `business_account_id` (our account), `conversation_id` (stable per
        channel + account + guest; e-mail: per address, so a thread and later mails meet),
        `guest.id` (+ `guest.email` / `guest.phone`, `guest.display_name`), `sent_at`, `kind`,
        `text` (clean text: quoted history and signatures stripped), and for e-mail `subject`,
        `thread_id` and `reply_to_message_id` (the guest's Message-ID, used for In-Reply-To).
        Media bytes may be left empty with `media.media_id` set: `prepare` fetches them."""

    async def identify(self, msg: m.InboundMessage) -> None:  # noqa: B027 - optional hook
        """Worker side, first step: settle who the guest is before any per-conversation state
        is read (WhatsApp maps a BSUID-only sender back to the wa_id it had). May change
        `msg.guest.id` and `msg.conversation_id`. Default: nothing."""

    async def prepare(self, msg: m.InboundMessage, state: TurnState) -> None:
        """Worker side, before conversation sees the message: fetch media, map a typed number
        to the option of the last numbered menu, send read receipts... May modify `msg`.
        Raise a retryable `ChannelError` to have the message retried later. The default maps
        numbered choices (so the base class's numbered-text menus work on every channel)."""
        self.map_numbered_choice(msg, state.menu)

    async def settle(self, msg: m.InboundMessage) -> None:  # noqa: B027 - optional hook
        """Wait for side work `prepare` started to run alongside the conversation call (read
        receipts, typing indicators), so it lands before the reply. Called once per turn,
        also when the turn failed; must not raise."""

    @staticmethod
    def map_numbered_choice(msg: m.InboundMessage, menu: Sequence[Choice]) -> bool:
        """A guest typing "2" after a numbered-text menu chose option 2 (INTERACTIVE_REPLY)."""
        if not menu or msg.kind != m.MESSAGE_KIND_TEXT:
            return False
        choice = match_choice(msg.text, menu)
        if choice is None:
            return False
        msg.kind = m.MESSAGE_KIND_INTERACTIVE_REPLY
        msg.interactive_reply.id = choice.id
        msg.interactive_reply.title = choice.title
        return True

    # ── outbound ──
    @abstractmethod
    def destination_for(self, msg: m.InboundMessage) -> Destination:
        """Where replies to this guest message go (e-mail: same thread, Re: subject)."""

    @abstractmethod
    def destination_to(
        self, recipient_id: str, account: str, *, subject: str = "", thread_id: str = ""
    ) -> Destination:
        """Destination for `ChannelService.SendMessage` (a wa_id, an e-mail address...). Raise
        `ValueError` with a guest-free message when `recipient_id` is not valid here."""

    @property
    def default_account(self) -> str:
        """Business account used when a SendMessage request names none."""
        return ""

    def render(self, reply: m.Reply, language: str, dest: Destination) -> list[OutboundPart]:
        """Reply → parts. Dispatches on the reply's content to the `render_*` methods below,
        whose defaults are plain text (Rasa-style fallbacks); an empty reply renders to []."""
        which = reply.WhichOneof("content")
        if which == "text":
            return self.render_text(reply.text.body, language) if reply.text.body.strip() else []
        if which == "buttons":
            buttons = reply.buttons
            options = [(x.id, x.title, "") for x in buttons.buttons]
            return self.render_choices(
                buttons.body, options, language, buttons.header, buttons.footer
            )
        if which == "list":
            lst = reply.list
            options = [(r.id, r.title, r.description) for s in lst.sections for r in s.rows]
            return self.render_choices(lst.body, options, language, lst.header, lst.footer)
        if which == "audio":
            audio = reply.audio
            return self.render_audio(bytes(audio.data), audio.mime_type, audio.transcript, language)
        if which == "location":
            loc = reply.location
            return self.render_location(
                loc.latitude, loc.longitude, loc.name, loc.address, language
            )
        return []

    def render_turn(
        self, replies: Sequence[m.Reply], language: str, dest: Destination
    ) -> list[tuple[str, str, list[OutboundPart]]]:
        """All replies of one delivery → groups of (part key, reply id, parts). Default: one
        group per reply, rendered with `render`. A channel where one turn should be one message
        (e-mail: one polite e-mail, not one per reply) overrides this and returns one group."""
        return [
            (reply.reply_id or f"#{i}", reply.reply_id, self.render(reply, language, dest))
            for i, reply in enumerate(replies)
        ]

    def render_text(self, body: str, language: str) -> list[OutboundPart]:
        return [OutboundPart(kind="text", payload={"body": body.strip()})]

    def render_choices(
        self,
        body: str,
        options: list[tuple[str, str, str]],
        language: str,
        header: str = "",
        footer: str = "",
    ) -> list[OutboundPart]:
        """Options (id, title, description) as numbered text; a typed number maps back."""
        if not options:
            return self.render_text(body, language) if body.strip() else []
        text = numbered_text(body, options, language, header, footer)
        parts = self.render_text(text, language)
        choices = [Choice(i, t) for i, t, _d in options]
        for part in parts:
            part.choices = choices
        return parts

    def render_audio(
        self, data: bytes, mime_type: str, transcript: str, language: str
    ) -> list[OutboundPart]:
        """Default: what the audio says, as text (channels that can't play audio)."""
        return self.render_text(transcript, language) if transcript.strip() else []

    def render_location(
        self, latitude: float, longitude: float, name: str, address: str, language: str
    ) -> list[OutboundPart]:
        lines = [x for x in (name.strip(), address.strip()) if x]
        lines.append(
            f"{label('map', language)}: https://www.openstreetmap.org/?mlat={latitude:.6f}"
            f"&mlon={longitude:.6f}"
        )
        return self.render_text("\n".join(lines), language)

    @staticmethod
    def offered_as_text(part: OutboundPart, result: SendResult) -> bool:
        """True when the guest saw `part.choices` as numbered text (so "2" must be mapped)."""
        return bool(part.choices) and (part.kind == "text" or result.outcome == "fallback_text")

    @abstractmethod
    async def send(self, dest: Destination, part: OutboundPart, *, idempotency: str) -> SendResult:
        """Deliver one part. `idempotency` is unique per (inbound message or SendMessage key,
        part); pass it to the provider when it can echo or dedupe it (WhatsApp callback data,
        e-mail Message-ID). Retry transient failures inside (bounded); raise `ChannelError`
        when the part did not go out. Must not block longer than a few tens of seconds."""

    async def can_deliver_now(self, dest: Destination) -> bool:
        """Whether held parts (`deferred`) may be sent now. Default: always."""
        return True

    async def after_failed_status(
        self, record: dict[str, str], errors: list[dict[str, Any]]
    ) -> SendResult | None:
        """A message we sent failed later (asynchronous status). Return a "deferred"
        SendResult when the adapter sent a notice and the content should be held (WhatsApp:
        131047, window closed); None otherwise. `record` is the stored outbound record."""
        return None


def numbered_text(
    body: str,
    options: Sequence[tuple[str, str, str]],
    language: str,
    header: str = "",
    footer: str = "",
    *,
    bold: Callable[[str], str] = lambda s: s,
    italic: Callable[[str], str] = lambda s: s,
) -> str:
    """Options (id, title, description) as "1. title — description" lines plus a hint."""
    lines = []
    if header.strip():
        lines.append(bold(header.strip()))
    if body.strip():
        lines.append(body.strip())
    lines.append("")
    for i, (_id, title, desc) in enumerate(options, start=1):
        lines.append(f"{i}. {title.strip()}" + (f" — {desc.strip()}" if desc.strip() else ""))
    lines.append("")
    lines.append(label("pick", language))
    if footer.strip():
        lines.append(italic(footer.strip()))
    return "\n".join(lines)
