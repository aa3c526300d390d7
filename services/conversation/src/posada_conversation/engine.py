"""One inbound message, end to end: idempotency, lock, session, audio, nlp, policy, history.

Order of a turn (under the conversation's lock):
1. a message id already handled returns the replies of the first time (`duplicate=true`),
   from Redis or, if Redis forgot, from the Postgres history;
2. a handed-off conversation records the message and stays silent, unless it was handed off
   by a fault (then the agent tries to take it back, see degradation.py);
3. a voice note is transcribed (audio down → deferred while the gateway retries, then ask the
   guest to write);
4. the text is parsed by nlp with the hotel's time zone and today's date, and the intent the
   policy is waiting on (nlp down → deferred while the gateway retries, then an honest answer
   and a fault handoff; the same for pms inside the policy);
5. the policy decides; replies are numbered `{message_id}:{n}` (stable across retries);
6. optional voice reply (audio down → text only);
7. the turn is written to Postgres in one transaction, then the session and the reply cache
   to Redis.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotel.channel.v1 import message_pb2
from hotel.conversation.v1 import conversation_service_pb2 as conv_pb2
from hotel.nlp.v1 import nlp_service_pb2 as nlp_pb2
from posada_common.logging import get_logger
from prometheus_client import Counter, Histogram

from .degradation import (
    BUSINESS_HANDOFFS,
    DEFERRED,
    FAULT_PREFIX,
    FAULT_RELEASES,
    FAULT_TASK_PREFIX,
    TRANSIENT_HANDOFFS,
    Deferred,
    Delivery,
    HoldingNotices,
    is_fault_handoff,
)
from .deps import (
    Dependencies,
    DependencyDown,
    DependencyError,
    dependencies_down,
    start_turn,
    to_date,
)
from .i18n import DEFAULT_LANGUAGE, LANGUAGES, Templates
from .policy import Outcome, OutReply, Policy, Understanding, is_our_button
from .policy.parsing import split_clauses
from .repository import HANDED_OFF, NewTask, Repository, TurnRecord
from .sessions import Session, SessionStore

TURNS = Counter(
    "posada_conversation_turns_total", "Inbound messages handled", ["intent", "outcome"]
)
DUPLICATES = Counter(
    "posada_conversation_duplicates_total", "Redelivered messages answered from history"
)
HANDOFFS = Counter(
    "posada_conversation_handoffs_total", "Conversations handed to staff", ["reason"]
)
DEGRADED = Counter(
    "posada_conversation_degraded_total", "Turns where a dependency was down", ["dependency"]
)
BOOKINGS = Counter("posada_conversation_bookings_total", "Bookings confirmed by the agent")
# Dependencies known to degrade a turn, exported at zero so the first degraded turn alerts.
for _dependency in ("nlp", "audio", "pms"):
    DEGRADED.labels(_dependency)
for _reason in ("guest_request", "misunderstood", "pms_unavailable", "booking_rejected"):
    HANDOFFS.labels(_reason)
TURNS.labels("none", "answered")
TURN_SECONDS = Histogram(
    "posada_conversation_turn_seconds",
    "Time to handle one inbound message",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
log = get_logger(__name__)
VOICE_MODES = ("never", "when_guest_speaks", "always")
_URL = re.compile(r"https?://\S+")
_NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")


def count_words(text: str) -> int:
    return len(re.findall(r"[^\W\d_]{2,}", _NOT_WORDS.sub(" ", text)))


@dataclass
class EngineConfig:
    default_language: str = DEFAULT_LANGUAGE
    default_time_zone: str = "Europe/Madrid"
    voice_replies: str = "when_guest_speaks"
    voice_replies_by_hotel: dict[str, str] = field(default_factory=dict)
    switch_language_min_words: int = 3


def _understanding(text: str, parsed: nlp_pb2.ParseResponse) -> Understanding:
    entities: dict[str, list[str]] = {}
    for entity in parsed.entities:
        entities.setdefault(entity.type, []).append(entity.value)
    return Understanding(
        text=text,
        language=parsed.language,
        intent=parsed.intent.name,
        confidence=parsed.intent.confidence,
        entities=entities,
    )


def zone(name: str, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        try:
            if candidate:
                return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


class Engine:
    def __init__(
        self,
        repo: Repository,
        sessions: SessionStore,
        deps: Dependencies,
        templates: Templates,
        policy: Policy,
        config: EngineConfig,
    ):
        self.repo = repo
        self.sessions = sessions
        self.deps = deps
        self.templates = templates
        self.policy = policy
        self.config = config
        self.holding = HoldingNotices(sessions.redis)

    async def handle(
        self, message: message_pb2.InboundMessage, delivery: Delivery | None = None
    ) -> conv_pb2.HandleMessageResponse:
        cid, mid = message.conversation_id, message.message_id
        delivery = delivery or Delivery()
        cached = await self.sessions.handled(cid, mid)
        if cached:
            DUPLICATES.inc()
            return self._duplicate(conv_pb2.HandleMessageResponse.FromString(cached))
        with TURN_SECONDS.time():
            async with self.sessions.lock(cid):
                cached = await self.sessions.handled(cid, mid)
                if cached:
                    DUPLICATES.inc()
                    return self._duplicate(conv_pb2.HandleMessageResponse.FromString(cached))
                stored = await self.repo.replies_for(cid, mid)
                if stored is not None:
                    DUPLICATES.inc()
                    row = await self.repo.get_conversation(cid)
                    response = conv_pb2.HandleMessageResponse(
                        conversation_id=cid,
                        replies=stored,
                        language=row["language"] if row else "",
                        state=row["state"] if row else conv_pb2.CONVERSATION_STATE_ACTIVE,
                        duplicate=True,
                    )
                    await self.sessions.remember(cid, mid, response.SerializeToString())
                    return response
                start_turn()
                try:
                    response = await self._turn(message, delivery)
                except Deferred as deferred:
                    # Nothing of the turn was kept: the next offer is a fresh turn.
                    return await self._defer(message, deferred, delivery)
                await self.sessions.remember(cid, mid, response.SerializeToString())
                return response

    async def _defer(
        self, message: message_pb2.InboundMessage, deferred: Deferred, delivery: Delivery
    ) -> conv_pb2.HandleMessageResponse:
        """retry_later, with one holding reply on the first deferral of an outage."""
        cid, mid = message.conversation_id, message.message_id
        DEFERRED.labels(deferred.dependency).inc()
        replies = []
        if not deferred.quiet and await self.holding.first(cid, mid):
            body = self.templates.get(deferred.language).text("messages.hold_on")
            reply = message_pb2.Reply(reply_id=f"{mid}:hold", text=message_pb2.TextReply(body=body))
            await self.repo.record_notice(cid, mid, reply, body, "messages.hold_on")
            replies.append(reply)
        log.info(
            "turn_deferred",
            dependency=deferred.dependency,
            attempt=delivery.attempt,
            holding_reply=bool(replies),
        )
        return conv_pb2.HandleMessageResponse(
            conversation_id=cid,
            replies=replies,
            language=deferred.language,
            state=(
                conv_pb2.CONVERSATION_STATE_HANDED_OFF
                if deferred.quiet
                else conv_pb2.CONVERSATION_STATE_ACTIVE
            ),
            retry_later=True,
            retry_after_ms=delivery.retry_after_ms(),
        )

    @staticmethod
    def _duplicate(response: conv_pb2.HandleMessageResponse) -> conv_pb2.HandleMessageResponse:
        response.duplicate = True
        return response

    def _today(self, time_zone: str) -> dt.date:
        return dt.datetime.now(zone(time_zone, self.config.default_time_zone)).date()

    async def _turn(
        self, message: message_pb2.InboundMessage, delivery: Delivery
    ) -> conv_pb2.HandleMessageResponse:
        cid = message.conversation_id
        row = await self.repo.ensure_conversation(message, self.config.default_language)
        session = await self.sessions.load(cid, message.hotel_id)
        if session.hotel_source != "guest" and session.hotel_id != message.hotel_id:
            # The channel's hotel, unless the guest chose one in this conversation.
            session.hotel_id, session.time_zone = message.hotel_id, ""
        session.turns += 1
        if not session.language and row["last_message_at"] != row["created_at"]:
            # The session expired but the conversation is known: keep its language.
            session.language = row["language"] if row["language"] in LANGUAGES else ""
        outcome = Outcome()
        text, intent, voice_in = message.text, "", False
        language = session.language or row["language"] or self.config.default_language
        kind = message.kind or message_pb2.MESSAGE_KIND_TEXT
        # Handed off by a fault and no person took it since: the agent tries to take it back.
        fault = row["state"] == HANDED_OFF and is_fault_handoff(row["handoff_reason"])

        async def stay_handed_off(said: str | None = None) -> conv_pb2.HandleMessageResponse:
            # Staff are answering: record what the guest said (transcribed if we can), stay silent.
            if said is not None:
                pass
            elif kind == message_pb2.MESSAGE_KIND_AUDIO and message.media.data:
                try:
                    said = (
                        await self.deps.audio.transcribe(
                            message.media.data, message.media.mime_type, session.language
                        )
                    ).text
                except (DependencyDown, DependencyError):
                    said = "[voice note]"
            else:
                said = text
            await self.repo.record_turn(TurnRecord(message, said, "", language, [], [], []))
            await self.sessions.save(session)
            TURNS.labels("", "handed_off").inc()
            return conv_pb2.HandleMessageResponse(
                conversation_id=cid, language=language, state=conv_pb2.CONVERSATION_STATE_HANDED_OFF
            )

        def transient(dependency: str) -> None:
            """A dependency is briefly down: defer while the gateway retries."""
            DEGRADED.labels(dependency).inc()
            if delivery.may_defer:
                raise Deferred(dependency, language, quiet=fault)

        if row["state"] == HANDED_OFF and not fault:
            return await stay_handed_off()

        if kind == message_pb2.MESSAGE_KIND_REACTION:
            # An emoji on one of our messages needs no answer; keep it in the history.
            await self.repo.record_turn(
                TurnRecord(message, message.reaction.emoji, "reaction", language, [], [], [])
            )
            await self.sessions.save(session)
            TURNS.labels("reaction", "silent").inc()
            return conv_pb2.HandleMessageResponse(
                conversation_id=cid, language=language, state=conv_pb2.CONVERSATION_STATE_ACTIVE
            )

        understanding: Understanding | None = None
        catalog_language = language
        if kind == message_pb2.MESSAGE_KIND_AUDIO and message.media.data:
            voice_in = True
            try:
                transcription = await self.deps.audio.transcribe(
                    message.media.data, message.media.mime_type, session.language
                )
                text = transcription.text.strip()
                if transcription.language in LANGUAGES and not session.language:
                    session.language = transcription.language
                if not text:
                    outcome.replies.append(self._text(language, "messages.audio_empty"))
            except DependencyDown:
                transient("audio")
                if fault:
                    return await stay_handed_off("[voice note]")
                outcome.replies.append(self._text(language, "messages.audio_down"))
                text = ""
                voice_in = False
            except DependencyError:
                DEGRADED.labels("audio").inc()
                outcome.replies.append(self._text(language, "messages.audio_down"))
                text = ""
                voice_in = False
        elif kind == message_pb2.MESSAGE_KIND_AUDIO:
            DEGRADED.labels("audio").inc()
            outcome.replies.append(self._text(language, "messages.audio_down"))
        elif kind in (
            message_pb2.MESSAGE_KIND_INTERACTIVE_REPLY,
            message_pb2.MESSAGE_KIND_TEMPLATE_BUTTON,
        ):
            text = message.interactive_reply.title or message.text
            understanding = Understanding(
                text=text, language=language, interactive_id=message.interactive_reply.id
            )
        elif kind == message_pb2.MESSAGE_KIND_TEXT or (
            kind == message_pb2.MESSAGE_KIND_IMAGE and message.media.caption
        ):
            text = message.text or message.media.caption
        else:
            outcome.replies.append(self._text(language, "messages.unsupported_kind"))
            text = message.text

        hotel_zone = session.time_zone
        if not hotel_zone:
            try:
                hotel_zone = (await self.policy.hotel(session.hotel_id, language)).time_zone
                session.time_zone = hotel_zone
            except (DependencyDown, DependencyError):
                hotel_zone = self.config.default_time_zone
        today = self._today(hotel_zone)

        if not outcome.replies and text.strip():
            if understanding is None or not is_our_button(understanding.interactive_id):
                try:
                    understanding = await self._parse(text, session, hotel_zone, today)
                except DependencyDown:
                    transient("nlp")
                    if fault:
                        return await stay_handed_off()
                    understanding = None
                    outcome = Outcome()
                    self._apologise(outcome, language, text, "nlp_unavailable", fault=True)
                except DependencyError as exc:
                    # nlp refused the request itself (say, a time zone it does not know): the
                    # guest's words stay unread, the dialogue treats them as not understood.
                    log.warning("nlp_refused", code=exc.code.name, detail=exc.detail[:200])
                    understanding = Understanding(text=text, language=language)
            if understanding is not None:
                language = self._choose_language(session, understanding, text)
                session.language = language
                catalog_language = language
                try:
                    outcome = await self.policy.handle(
                        session, understanding, message.guest, today, int(message.channel)
                    )
                except DependencyDown as exc:  # defensive: the policy handles pms itself
                    transient(exc.dependency)
                    if fault:
                        return await stay_handed_off()
                    outcome = Outcome()
                    self._apologise(
                        outcome, language, text, f"{exc.dependency}_unavailable", fault=True
                    )
                except Exception:
                    # A bug must not leave the guest in silence: apologise, hand off, keep going.
                    log.exception("policy_failed", intent=understanding.intent)
                    outcome = Outcome()
                    self._apologise(outcome, language, text, "internal_error")
                intent = understanding.intent or f"button:{understanding.interactive_id}"
                dependency = TRANSIENT_HANDOFFS.get(outcome.handoff_reason)
                if (
                    outcome.handoff_reason
                    and outcome.handoff_reason not in BUSINESS_HANDOFFS
                    and "pms" in dependencies_down()
                ):
                    dependency = "pms"  # handed off because pms was down, whatever the name
                if dependency:
                    # The policy answered "pms is down, a person will help": a fault, not a
                    # business answer. Defer while the gateway retries; at the end, mark it.
                    transient(dependency)
                    if fault:
                        return await stay_handed_off()
                    self._mark_fault(outcome)
        elif not outcome.replies:
            outcome.replies.append(self._text(language, "messages.not_understood"))

        if not outcome.replies:
            # Never silence while the agent is in charge.
            outcome.replies.append(self._text(catalog_language, "messages.not_understood"))
        session.language = session.language or catalog_language
        replies = await self._voice(outcome.replies, message.hotel_id, session.language, voice_in)
        numbered = []
        for n, out in enumerate(replies):
            reply = message_pb2.Reply()
            reply.CopyFrom(out.reply)
            reply.reply_id = f"{message.message_id}:{n}"
            numbered.append(reply)
        state = conv_pb2.CONVERSATION_STATE_ACTIVE
        if fault and not outcome.handoff_reason:
            # The dependency answers again and no person took over: the agent is back.
            await self.repo.release_fault_handoff(cid)
            FAULT_RELEASES.inc()
            log.info("fault_handoff_released", previous=row["handoff_reason"])
        if outcome.handoff_reason:
            state = conv_pb2.CONVERSATION_STATE_HANDED_OFF
            HANDOFFS.labels(outcome.handoff_reason).inc()
            session.pending = None
        BOOKINGS.inc(len(outcome.bookings))
        await self.repo.record_turn(
            TurnRecord(
                message=message,
                text=text,
                intent=intent,
                language=session.language,
                replies=numbered,
                reply_texts=[r.text for r in replies],
                reply_intents=[r.template for r in replies],
                handoff_reason=outcome.handoff_reason,
                tasks=outcome.tasks,
                bookings=outcome.bookings,
                booking_status_updates=outcome.booking_status_updates,
                hotel_id=session.hotel_id,
            )
        )
        await self.sessions.save(session)
        await self.holding.clear(cid)
        TURNS.labels(intent or "none", "handoff" if outcome.handoff_reason else "answered").inc()
        log.info(
            "turn_handled",
            intent=intent,
            language=session.language,
            pending=(session.pending or {}).get("kind", ""),
            templates=[r.template for r in replies],
            handoff=outcome.handoff_reason,
            bookings=len(outcome.bookings),
            tasks=len(outcome.tasks),
        )
        return conv_pb2.HandleMessageResponse(
            conversation_id=cid, replies=numbered, language=session.language, state=state
        )

    def _text(self, language: str, key: str) -> OutReply:
        body = self.templates.get(language).text(key)
        return OutReply(message_pb2.Reply(text=message_pb2.TextReply(body=body)), body, key)

    def _apologise(
        self, outcome: Outcome, language: str, text: str, reason: str, *, fault: bool = False
    ) -> None:
        """Honest 'technical problem, a person will answer' and a handoff with a staff task."""
        key = "messages.nlp_down" if reason == "nlp_unavailable" else "messages.technical_problem"
        outcome.replies.append(self._text(language, key))
        outcome.handoff_reason = reason
        outcome.tasks.append(
            NewTask(
                conv_pb2.TASK_KIND_HANDOFF,
                f"Handoff ({reason}). Last guest message: {text[:500]}",
            )
        )
        if fault:
            self._mark_fault(outcome)

    @staticmethod
    def _mark_fault(outcome: Outcome) -> None:
        """A handoff caused by a fault: staff see why, and the agent may take it back."""
        reason = outcome.handoff_reason
        if not reason.startswith(FAULT_PREFIX):
            outcome.handoff_reason = FAULT_PREFIX + reason
        for task in outcome.tasks:
            if task.kind == conv_pb2.TASK_KIND_HANDOFF and not task.description.startswith(
                FAULT_TASK_PREFIX
            ):
                task.description = (
                    f"{FAULT_TASK_PREFIX} ({reason}; the agent takes the conversation back "
                    f"when the service recovers unless you reply). {task.description}"
                )

    async def _parse(
        self, text: str, session: Session, hotel_zone: str, today: dt.date
    ) -> Understanding:
        hint = session.language if count_words(text) < self.config.switch_language_min_words else ""
        expected = self.policy.expected_intent(session)
        clauses = split_clauses(text)
        if not clauses:
            parsed = await self.deps.nlp.parse(
                text,
                language_hint=hint,
                reference_date=today,
                time_zone=hotel_zone,
                expected_intent=expected,
            )
            return _understanding(text, parsed)
        # The whole message and each clause in one round trip: every question gets answered.
        requests = [
            nlp_pb2.ParseRequest(
                text=part[:4096],
                language_hint=hint,
                time_zone=hotel_zone,
                expected_intent=expected,
                reference_date=to_date(today),
            )
            for part in (text, *clauses)
        ]
        whole, *parts = await self.deps.nlp.parse_batch(requests)
        u = _understanding(text, whole)
        u.clauses = [_understanding(c, p) for c, p in zip(clauses, parts, strict=False)]
        return u

    def _choose_language(self, session: Session, u: Understanding, text: str) -> str:
        """Keep the conversation's language unless the guest clearly switched.

        Clearly = a message of >= 6 words in another language, or two messages in a row of
        >= `switch_language_min_words` words each detected in that same other language.
        E-mail addresses, links and numbers do not count as words.
        """
        current = session.language
        detected = u.language if u.language in LANGUAGES else ""
        if not current:
            return detected or self.config.default_language
        words = count_words(text)
        if not detected or detected == current or words < self.config.switch_language_min_words:
            session.language_vote = ""
            return current
        if words >= 6 or session.language_vote == detected:
            session.language_vote = ""
            return detected
        session.language_vote = detected
        return current

    def _voice_mode(self, hotel_id: str) -> str:
        return self.config.voice_replies_by_hotel.get(hotel_id, self.config.voice_replies)

    async def _voice(
        self, replies: list[OutReply], hotel_id: str, language: str, voice_in: bool
    ) -> list[OutReply]:
        """Speaks the plain-text replies as one voice note (with transcript); buttons stay."""
        mode = self._voice_mode(hotel_id)
        if mode == "never" or (mode == "when_guest_speaks" and not voice_in):
            return replies
        spoken = [
            r
            for r in replies
            if r.reply.WhichOneof("content") == "text" and not _URL.search(r.text)
        ]
        if not spoken:
            return replies
        transcript = "\n".join(r.text for r in spoken)
        try:
            audio = await self.deps.audio.synthesize(
                transcript.replace("*", ""), str(self.templates.get(language).raw("voice"))
            )
        except (DependencyDown, DependencyError):
            DEGRADED.labels("audio").inc()
            return replies
        voice = OutReply(
            message_pb2.Reply(
                audio=message_pb2.AudioReply(
                    data=audio.audio,
                    mime_type=audio.mime_type or "audio/ogg; codecs=opus",
                    transcript=transcript,
                )
            ),
            transcript,
            "voice",
        )
        out: list[OutReply] = []
        placed = False
        for r in replies:
            if r in spoken:
                if not placed:
                    out.append(voice)
                    placed = True
                continue
            out.append(r)
        return out
