"""Signature and verification-handshake edge cases (pure functions)."""

from __future__ import annotations

import hashlib
import hmac

from posada_gateway.channels.whatsapp.signature import (
    sign,
    signature_is_valid,
    verification_challenge,
)

SECRET = "app-secret-1"
BODY = b'{"object":"whatsapp_business_account","entry":[{"x":"\\u00e9"}]}'


def test_valid_signature_over_raw_bytes_is_accepted():
    assert signature_is_valid(BODY, sign(SECRET, BODY), [SECRET])


def test_signature_of_reserialised_json_is_rejected():
    # The same JSON re-serialised (escapes decoded) is different bytes: its HMAC must not pass.
    other = '{"object":"whatsapp_business_account","entry":[{"x":"é"}]}'.encode()
    assert not signature_is_valid(other, sign(SECRET, BODY), [SECRET])


def test_missing_empty_or_wrong_headers_are_rejected():
    good = sign(SECRET, BODY)
    for header in [
        None,
        "",
        "sha256=",
        "sha1=" + good[7:],
        good[7:],
        "sha256=" + "0" * 64,
        good[:-1],
        good + "0",
        "sha256=" + "zz" * 32,
    ]:
        assert not signature_is_valid(BODY, header, [SECRET]), header


def test_uppercase_hex_and_prefix_are_tolerated():
    good = sign(SECRET, BODY)
    assert signature_is_valid(BODY, "SHA256=" + good[7:].upper(), [SECRET])


def test_wrong_secret_and_empty_secret_fail_closed():
    assert not signature_is_valid(BODY, sign("other", BODY), [SECRET])
    # An empty configured secret never validates anything, not even an HMAC under "".
    empty_sig = "sha256=" + hmac.new(b"", BODY, hashlib.sha256).hexdigest()
    assert not signature_is_valid(BODY, empty_sig, [""])


def test_previous_secret_is_accepted_during_rotation():
    assert signature_is_valid(BODY, sign("old-secret", BODY), [SECRET, "old-secret"])


def test_verification_challenge_rules():
    q = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "8413972605"}
    assert verification_challenge(q, "tok") == "8413972605"
    assert verification_challenge({**q, "hub.verify_token": "wrong"}, "tok") is None
    assert verification_challenge({**q, "hub.mode": "unsubscribe"}, "tok") is None
    assert (
        verification_challenge({k: v for k, v in q.items() if k != "hub.challenge"}, "tok") is None
    )
    # An unset verify token never verifies, even against an empty query token.
    assert verification_challenge({**q, "hub.verify_token": ""}, "") is None
