"""WhatsApp Cloud API behind the channel port.

Everything WhatsApp-specific lives in this package: the signed webhook (`webhook.py`, parsing in
`parser.py`), Graph calls (`graph.py`), sending with rate limits, retries by error code, the
24-hour window and re-engagement template (`sender.py`), rendering within WhatsApp's limits with
numbered-text fallbacks (`render.py`), read receipts, voice-note download and the BSUID → wa_id
mapping for guests who hide their number (here).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from hotel.channel.v1 import message_pb2 as m

from ... import metrics
from ...store import GatewayStore
from ..base import ChannelAdapter, Destination, Inbox, OutboundPart, SendResult, TurnState
from .graph import GraphClient, GraphError
from .parser import conversation_id_for
from .render import render_reply
from .sender import WINDOW_SECONDS, Recipient, Sender
from .webhook import whatsapp_routes

BSUID_TTL = 90 * 86400

# Kinds the agent answers: show "typing…" for them (only if a reply will follow).
_TYPING_KINDS = {
    m.MESSAGE_KIND_TEXT,
    m.MESSAGE_KIND_AUDIO,
    m.MESSAGE_KIND_INTERACTIVE_REPLY,
    m.MESSAGE_KIND_TEMPLATE_BUTTON,
    m.MESSAGE_KIND_LOCATION,
    m.MESSAGE_KIND_IMAGE,
    m.MESSAGE_KIND_DOCUMENT,
    m.MESSAGE_KIND_VIDEO,
    m.MESSAGE_KIND_CONTACTS,
    m.MESSAGE_KIND_UNSUPPORTED,
}


@dataclass(slots=True)
class WhatsAppConfig:
    default_phone_number_id: str
    app_secrets: Sequence[str]
    verify_token: str
    hotel_for: Callable[[str], str]
    max_body_bytes: int = 3 * 1024 * 1024
    media_max_bytes: int = 16 * 1024 * 1024
    mark_read: bool = True
    typing_indicator: bool = True


def recipient_of(dest: Destination) -> Recipient:
    return Recipient(guest_id=dest.guest_id, phone=dest.phone, bsuid=dest.bsuid)


class WhatsAppAdapter(ChannelAdapter):
    channel: ClassVar[int] = m.CHANNEL_WHATSAPP
    name: ClassVar[str] = "whatsapp"

    def __init__(
        self,
        store: GatewayStore,
        graph: GraphClient,
        sender: Sender,
        config: WhatsAppConfig,
        *,
        log: Any,
    ):
        self.store = store
        self.graph = graph
        self.sender = sender
        self.cfg = config
        self.log = log
        self._reads: dict[str, asyncio.Task[bool]] = {}

    @property
    def default_account(self) -> str:
        return self.cfg.default_phone_number_id

    # --- inbound ------------------------------------------------------------------------
    def routes(self, inbox: Inbox) -> list[Any]:
        return whatsapp_routes(
            inbox,
            self.store,
            app_secrets=self.cfg.app_secrets,
            verify_token=self.cfg.verify_token,
            hotel_for=self.cfg.hotel_for,
            log=self.log,
            max_body_bytes=self.cfg.max_body_bytes,
        )

    async def identify(self, msg: m.InboundMessage) -> None:
        """Keep one conversation when a guest starts hiding their number (usernames, 2026):
        remember wa_id ↔ BSUID while both are sent, and map a BSUID-only message back to the
        wa_id it belonged to. Replies then go to the BSUID (no phone number is known)."""
        guest = msg.guest
        if not guest.business_scoped_user_id:
            return
        ns = msg.business_account_id
        if guest.phone:
            await self.store.remember_alias(
                ns, guest.business_scoped_user_id, guest.phone, BSUID_TTL
            )
            return
        known = await self.store.alias(ns, guest.business_scoped_user_id)
        if known and known != guest.id:
            guest.id = known
            msg.conversation_id = conversation_id_for(msg.business_account_id, known)

    async def prepare(self, msg: m.InboundMessage, state: TurnState) -> None:
        self.map_numbered_choice(msg, state.menu)
        if state.first_delivery and self.cfg.mark_read and msg.kind != m.MESSAGE_KIND_REACTION:
            # Blue ticks and "typing…" go out while conversation thinks (awaited in `settle`,
            # before the reply): off the critical path of the answer.
            self._reads[msg.message_id] = asyncio.create_task(
                self.sender.mark_read(
                    msg.business_account_id,
                    msg.message_id,
                    typing=self.cfg.typing_indicator and msg.kind in _TYPING_KINDS,
                )
            )
        if msg.kind == m.MESSAGE_KIND_AUDIO and msg.media.media_id and not msg.media.data:
            await self._download_audio(msg)

    async def settle(self, msg: m.InboundMessage) -> None:
        task = self._reads.pop(msg.message_id, None)
        if task is not None:
            with contextlib.suppress(Exception):
                await task

    async def _download_audio(self, msg: m.InboundMessage) -> None:
        try:
            data, mime = await self.graph.fetch_media(
                msg.media.media_id,
                msg.business_account_id,
                expected_sha256=msg.media.sha256,
                max_bytes=self.cfg.media_max_bytes,
            )
        except GraphError as exc:
            if exc.retryable or exc.kind == "auth":
                metrics.MEDIA_DOWNLOADS.labels("retry").inc()
                raise
            # Gone or refused for good: hand the message on without bytes; conversation asks
            # the guest to write instead.
            metrics.MEDIA_DOWNLOADS.labels("failed").inc()
            self.log.warning("media_download_failed", message_id=msg.message_id, error=str(exc))
            return
        metrics.MEDIA_DOWNLOADS.labels("ok").inc()
        metrics.MEDIA_BYTES.inc(len(data))
        msg.media.data = data
        if mime and not msg.media.mime_type:
            msg.media.mime_type = mime

    # --- outbound -----------------------------------------------------------------------
    def destination_for(self, msg: m.InboundMessage) -> Destination:
        return Destination(
            channel=m.CHANNEL_WHATSAPP,
            account=msg.business_account_id,
            guest_id=msg.guest.id,
            phone=msg.guest.phone,
            bsuid=msg.guest.business_scoped_user_id,
            display_name=msg.guest.display_name,
            conversation_id=msg.conversation_id,
            hotel_id=msg.hotel_id,
            guest_wrote_at=msg.sent_at.seconds,
        )

    def destination_to(
        self, recipient_id: str, account: str, *, subject: str = "", thread_id: str = ""
    ) -> Destination:
        """A wa_id (digits, '+' and separators tolerated) or a business-scoped user id."""
        rid = recipient_id.strip()
        if not rid:
            raise ValueError("required: the guest's wa_id or business-scoped user id")
        account = account or self.default_account
        digits = re.sub(r"[\s\-()]", "", rid).lstrip("+")
        if digits.isdigit():
            return Destination(
                channel=m.CHANNEL_WHATSAPP,
                account=account,
                guest_id=digits,
                phone=digits,
                conversation_id=conversation_id_for(account, digits),
            )
        return Destination(
            channel=m.CHANNEL_WHATSAPP,
            account=account,
            guest_id=rid,
            bsuid=rid,
            conversation_id=conversation_id_for(account, rid),
        )

    def render(self, reply: m.Reply, language: str, dest: Destination) -> list[OutboundPart]:
        return render_reply(reply, language or "en")

    async def send(self, dest: Destination, part: OutboundPart, *, idempotency: str) -> SendResult:
        # Answering a message the guest wrote recently: the window is open, no lookup needed
        # (the stored "last wrote" time can only be later than this message).
        recent = bool(dest.guest_wrote_at) and (
            time.time() - dest.guest_wrote_at
            < WINDOW_SECONDS - self.sender.cfg.window_margin_seconds
        )
        res = await self.sender.send_part(
            dest.account,
            recipient_of(dest),
            part,
            callback_data=idempotency,
            check_window=not recent,
        )
        if res.outcome == "template":
            return SendResult(res.wamid, "deferred")
        return SendResult(res.wamid, res.outcome)

    async def can_deliver_now(self, dest: Destination) -> bool:
        return await self.sender.window_open(dest.account, recipient_of(dest))

    async def after_failed_status(
        self, record: dict[str, str], errors: list[dict[str, Any]]
    ) -> SendResult | None:
        """131047 reported later as a `failed` status: send the re-engagement template once;
        the pipeline holds the content until the guest writes."""
        if not any(e.get("code") == 131047 for e in errors):
            return None
        dest = Destination.from_dict(json.loads(record.get("dest") or "{}"))
        res = await self.sender.send_template(dest.account, recipient_of(dest), "")
        return SendResult(res.wamid, "deferred")
