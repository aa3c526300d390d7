"""Builds the e-mail adapter from the settings (the gateway's `main.register` registers it)."""

from __future__ import annotations

from typing import Any

import aiohttp

from .adapter import EmailAdapter, EmailIdentity, GmailTransport, push_routes
from .gmail_api import GmailClient, TokenSource
from .gmail_sync import GmailSyncConfig, GmailSyncer
from .imap import ImapConfig, ImapReader
from .ingest import MailboxInfo
from .mailstore import MailStore
from .pubsub import PushVerifier
from .push_webhook import gmail_push_handler
from .settings import EmailSettings
from .smtp import SmtpConfig, SmtpTransport


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


def imap_config(settings: EmailSettings) -> ImapConfig:
    return ImapConfig(
        host=settings.imap_host,
        port=settings.imap_port,
        user=settings.imap_user,
        password=_secret(settings.imap_password),
        security=settings.imap_security,
        folder=settings.imap_folder,
        idle_seconds=settings.imap_idle_seconds,
        timeout_seconds=settings.email_http_timeout_seconds,
        ca_file=settings.email_ca_file,
    )


def build_email_adapter(
    settings: EmailSettings,
    *,
    hotel_id: str,
    redis: Any,
    session: aiohttp.ClientSession,
    log: Any,
) -> EmailAdapter | None:
    """None when `EMAIL_MODE=off`."""
    if settings.email_mode == "off":
        return None
    address = settings.email_address.lower()
    mail = MailStore(redis)
    info = MailboxInfo(
        address=address,
        hotel_id=settings.email_hotel_id or hotel_id,
        own_addresses={address},
        mode=settings.email_mode,
    )
    identity = EmailIdentity(address=address, hotel_name=settings.email_hotel_name)
    if settings.email_mode == "gmail":
        tokens = TokenSource(
            static_token=_secret(settings.gmail_access_token),
            refresh_token=_secret(settings.gmail_refresh_token),
            client_id=settings.gmail_client_id,
            client_secret=_secret(settings.gmail_client_secret),
            token_uri=settings.gmail_token_uri,
            timeout_seconds=settings.email_http_timeout_seconds,
        )
        api = GmailClient(
            session,
            tokens,
            base_url=settings.gmail_api_base,
            timeout_seconds=settings.email_http_timeout_seconds,
        )
        verifier = PushVerifier(
            session,
            jwks_url=settings.gmail_push_jwks_url,
            audience=settings.gmail_push_audience,
            service_account=settings.gmail_push_service_account,
        )
        handler = gmail_push_handler(
            verifier=verifier,
            mail=mail,
            mailbox=address,
            subscription=settings.gmail_push_subscription,
            log=log,
        )
        sync_config = GmailSyncConfig(
            topic=settings.gmail_topic,
            sweep_seconds=settings.gmail_sweep_seconds,
            watch_renew_seconds=settings.gmail_watch_renew_seconds,
            full_sync_query=settings.gmail_full_sync_query,
        )
        return EmailAdapter(
            mail,
            GmailTransport(api),
            identity,
            log=log,
            push_route=push_routes(handler),
            reader_factory=lambda accept: GmailSyncer(
                api, accept, mail, info, sync_config, log=log
            ),
        )
    imap = imap_config(settings)
    smtp = SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        user=settings.smtp_user or settings.imap_user,
        password=_secret(settings.smtp_password) or _secret(settings.imap_password),
        security=settings.smtp_security,
        timeout_seconds=settings.email_http_timeout_seconds * 3,
        ca_file=settings.email_ca_file,
    )
    transport = SmtpTransport(smtp, imap, settings.imap_sent_folder, log=log)
    return EmailAdapter(
        mail,
        transport,
        identity,
        log=log,
        reader_factory=lambda accept: ImapReader(imap, accept, mail, info, log=log),
    )
