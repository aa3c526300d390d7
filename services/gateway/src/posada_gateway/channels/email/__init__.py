"""The e-mail channel: two ways to reach a hotel mailbox behind one adapter.

* Gmail API mode (`gmail_api`, `pubsub`, `gmail_sync`): Pub/Sub push → history sync → inbox.
* IMAP/SMTP mode (`imap`, `smtp`): IMAP IDLE → inbox; replies over SMTP, copy in Sent.

Both turn raw RFC 822 bytes into the same `InboundMessage` (`reading`), drop mail from robots
(`robots`), and answer with one composed e-mail per guest message in the same thread
(`composing`). See docs/adr/0017-email-channel.md.
"""
