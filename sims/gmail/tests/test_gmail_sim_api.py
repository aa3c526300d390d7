"""The Gmail stand-in behaves like the Gmail API where the gateway depends on it."""

from __future__ import annotations

import base64
import email
import email.policy

import jwt
from gmail_sim_harness import ADDRESS, TOKEN, Gmail, PushReceiver, guest_mail


async def test_requests_without_a_valid_bearer_token_are_refused_google_style(gmail: Gmail):
    status, body = await gmail.call("GET", "profile", token="")
    assert status == 401
    assert body["error"]["status"] == "UNAUTHENTICATED"
    status, _ = await gmail.call("GET", "profile", token="not-the-token")
    assert status == 401
    status, body = await gmail.call("GET", "profile")
    assert status == 200 and body["emailAddress"] == ADDRESS


async def test_other_users_mailboxes_are_denied(gmail: Gmail):
    async with gmail.http.get(
        f"{gmail.base}/gmail/v1/users/someone@else.example/profile",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as resp:
        assert resp.status == 403


async def test_refresh_token_grant_issues_an_access_token_the_api_accepts(gmail: Gmail):
    cfg = gmail.sim.config
    form = {
        "grant_type": "refresh_token",
        "client_id": cfg.client_id,
        "client_secret": cfg.client_secret,
        "refresh_token": cfg.refresh_token,
    }
    async with gmail.http.post(f"{gmail.base}/token", data=form) as resp:
        assert resp.status == 200
        issued = await resp.json()
    status, _ = await gmail.call("GET", "profile", token=issued["access_token"])
    assert status == 200
    async with gmail.http.post(
        f"{gmail.base}/token", data={**form, "refresh_token": "revoked"}
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "invalid_grant"


async def test_an_imported_mail_pushes_a_signed_notification_and_appears_in_history(
    gmail: Gmail, push_receiver: PushReceiver
):
    start = await gmail.watch()
    await push_receiver.wait_for(1)  # a successful watch publishes once
    added = await gmail.import_raw(guest_mail())
    await push_receiver.wait_for(2)
    push = push_receiver.received[-1]
    token = push["headers"]["Authorization"].removeprefix("Bearer ")
    async with gmail.http.get(f"{gmail.base}/oauth2/v3/certs") as resp:
        jwks = jwt.PyJWKSet.from_dict(await resp.json())
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(
        token,
        jwks[kid].key,
        algorithms=["RS256"],
        audience=push_receiver.url,
        issuer="https://accounts.google.com",
    )
    assert claims["email"] == gmail.sim.config.push_service_account and claims["email_verified"]
    data = PushReceiver.data(push)
    assert data["emailAddress"] == ADDRESS and int(data["historyId"]) > int(start)
    assert push["body"]["subscription"] == gmail.sim.config.subscription

    status, history = await gmail.call(
        "GET", "history", params={"startHistoryId": start, "historyTypes": "messageAdded"}
    )
    assert status == 200
    ids = [a["message"]["id"] for h in history["history"] for a in h["messagesAdded"]]
    assert ids == [added["id"]]
    assert "INBOX" in history["history"][0]["messagesAdded"][0]["message"]["labelIds"]
    status, empty = await gmail.call(
        "GET", "history", params={"startHistoryId": history["historyId"]}
    )
    assert status == 200 and "history" not in empty


async def test_a_history_id_that_is_too_old_gets_404(gmail: Gmail):
    start = await gmail.watch()
    await gmail.import_raw(guest_mail())
    async with gmail.http.post(f"{gmail.base}/control/expire-history") as resp:
        assert resp.status == 200
    status, body = await gmail.call("GET", "history", params={"startHistoryId": start})
    assert status == 404 and body["error"]["errors"][0]["reason"] == "notFound"


async def test_message_formats_raw_full_and_metadata(gmail: Gmail):
    raw = guest_mail(body="Buenos días, ¿hay cama supletoria?", charset="iso-8859-1")
    added = await gmail.import_raw(raw)
    _, as_raw = await gmail.call("GET", f"messages/{added['id']}", params={"format": "raw"})
    assert base64.urlsafe_b64decode(as_raw["raw"] + "==") == raw
    _, full = await gmail.call("GET", f"messages/{added['id']}", params={"format": "full"})
    data = full["payload"]["body"]["data"]
    assert "=" not in data  # base64url without padding, like Google
    text = base64.urlsafe_b64decode(data + "==").decode("iso-8859-1")
    assert "supletoria" in text and full["labelIds"] == ["INBOX", "UNREAD"]
    _, meta = await gmail.call(
        "GET",
        f"messages/{added['id']}",
        params=[("format", "metadata"), ("metadataHeaders", "Subject")],
    )
    assert [h["name"] for h in meta["payload"]["headers"]] == ["Subject"]
    status, _ = await gmail.call("GET", "messages/ffffffffffffffff")
    assert status == 404


async def test_send_in_a_thread_keeps_the_thread_and_is_found_with_in_sent(gmail: Gmail):
    added = await gmail.import_raw(guest_mail())
    reply = (
        f"From: Hotel <{ADDRESS}>\r\nTo: ana@example.org\r\nSubject: Re: Habitación doble\r\n"
        "In-Reply-To: <guest-1@example.org>\r\nReferences: <guest-1@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nSí, tenemos.\r\n"
    ).encode()
    status, sent = await gmail.call(
        "POST",
        "messages/send",
        json={"raw": base64.urlsafe_b64encode(reply).decode(), "threadId": added["threadId"]},
    )
    assert status == 200 and sent["threadId"] == added["threadId"]
    assert sent["labelIds"] == ["SENT"]
    _, listed = await gmail.call("GET", "messages", params={"q": "in:sent"})
    assert [m["id"] for m in listed["messages"]] == [sent["id"]]
    _, inbox = await gmail.call("GET", "messages", params={"labelIds": "INBOX"})
    assert [m["id"] for m in inbox["messages"]] == [added["id"]]
    _, by_id = await gmail.call(
        "GET", "messages", params={"q": "rfc822msgid:<guest-1@example.org>"}
    )
    assert [m["id"] for m in by_id["messages"]] == [added["id"]]
    # The guest answers in the same thread: it joins it (references + same subject).
    answer = guest_mail(
        subject="Re: Habitación doble",
        message_id="<guest-2@example.org>",
        extra_headers="In-Reply-To: <guest-1@example.org>\r\n",
    )
    second = await gmail.import_raw(answer)
    assert second["threadId"] == added["threadId"]
    # A different subject starts a new thread even when it references the old one.
    other = await gmail.import_raw(
        guest_mail(
            subject="Otra cosa",
            message_id="<guest-3@example.org>",
            extra_headers="In-Reply-To: <guest-1@example.org>\r\n",
        )
    )
    assert other["threadId"] != added["threadId"]


async def test_send_without_recipients_or_raw_is_a_400(gmail: Gmail):
    status, body = await gmail.call("POST", "messages/send", json={})
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    raw = base64.urlsafe_b64encode(b"Subject: hi\r\n\r\nno recipients\r\n").decode()
    status, _ = await gmail.call("POST", "messages/send", json={"raw": raw})
    assert status == 400
    assert gmail.sim.mailbox.messages == {}


async def test_a_nacked_push_is_retried_and_dropped_pushes_never_arrive(
    gmail: Gmail, push_receiver: PushReceiver
):
    await gmail.watch()
    await push_receiver.wait_for(1)
    push_receiver.script = [503]
    await gmail.import_raw(guest_mail())
    await push_receiver.wait_for(3)
    first, retry = push_receiver.received[1], push_receiver.received[2]
    assert first["body"]["message"]["messageId"] == retry["body"]["message"]["messageId"]
    async with gmail.http.post(f"{gmail.base}/control/drop-pushes", json={"count": 1}) as r:
        assert r.status == 200
    await gmail.import_raw(guest_mail(message_id="<guest-9@example.org>"))
    await gmail.import_raw(guest_mail(message_id="<guest-10@example.org>"))
    await push_receiver.wait_for(4)
    assert gmail.sim.publisher.dropped == 1


async def test_the_mail_view_composes_a_guest_mail_into_the_inbox_thread(
    gmail: Gmail, push_receiver: PushReceiver
):
    await gmail.watch()
    async with gmail.http.post(
        f"{gmail.base}/mail/api/compose",
        json={
            "from_name": "Ana",
            "from_email": "ana@example.org",
            "subject": "Hola",
            "text": "¿Hay sitio?",
        },
    ) as resp:
        assert resp.status == 200
        first = await resp.json()
    async with gmail.http.post(
        f"{gmail.base}/mail/api/compose",
        json={
            "from_email": "ana@example.org",
            "thread_id": first["threadId"],
            "text": "¿Y parking?",
        },
    ) as resp:
        second = await resp.json()
    assert second["threadId"] == first["threadId"]
    stored = gmail.sim.mailbox.get(second["id"])
    parsed = email.message_from_bytes(stored.raw, policy=email.policy.default)
    assert parsed["Subject"] == "Re: Hola" and parsed["In-Reply-To"]
    async with gmail.http.get(f"{gmail.base}/mail/api/threads") as resp:
        threads = (await resp.json())["threads"]
    assert len(threads) == 1 and len(threads[0]["messages"]) == 2
    async with gmail.http.get(f"{gmail.base}/mail/") as resp:
        assert resp.status == 200 and "Mail view" in await resp.text()
    async with gmail.http.post(f"{gmail.base}/mail/api/compose", json={"text": "x"}) as resp:
        assert resp.status == 400


async def test_threads_compare_decoded_subjects(gmail: Gmail):
    """An RFC 2047-encoded subject and the same subject in raw UTF-8 are the same thread."""
    first = await gmail.import_raw(
        b"From: Ana <ana@example.org>\r\nTo: x@y\r\nSubject: =?utf-8?q?Habitaci=C3=B3n?=\r\n"
        b"Message-ID: <enc-1@example.org>\r\nContent-Type: text/plain\r\n\r\nhola\r\n"
    )
    reply = (
        f"From: Hotel <{ADDRESS}>\r\nTo: ana@example.org\r\nSubject: Re: Habitación\r\n"
        "In-Reply-To: <enc-1@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsí\r\n"
    ).encode()
    status, sent = await gmail.call(
        "POST",
        "messages/send",
        json={"raw": base64.urlsafe_b64encode(reply).decode(), "threadId": first["threadId"]},
    )
    assert status == 200 and sent["threadId"] == first["threadId"]
