"""Pub/Sub push authentication and envelope parsing, against the stand-in's published keys."""

from __future__ import annotations

import base64
import json
import time

import aiohttp
import pytest
from posada_gateway.channels.email.pubsub import PushRejected, PushVerifier, parse_push
from posada_sim_gmail import SimConfig, start_simulator

AUD = "https://gw.example/webhooks/gmail"


@pytest.fixture
async def keys_and_verifier():
    runner, base, sim = await start_simulator(SimConfig(push_audience=AUD))
    async with aiohttp.ClientSession() as http:
        verifier = PushVerifier(
            http,
            jwks_url=f"{base}/oauth2/v3/certs",
            audience=AUD,
            service_account=sim.config.push_service_account,
            refetch_min_seconds=0,
        )
        yield sim, verifier
    await runner.cleanup()


def _claims(sim, **over):
    now = int(time.time())
    return {
        "aud": AUD,
        "iss": "https://accounts.google.com",
        "email": sim.config.push_service_account,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
        **over,
    }


async def test_a_valid_push_token_is_accepted_and_both_google_issuers_are(keys_and_verifier):
    sim, verifier = keys_and_verifier
    for iss in ("https://accounts.google.com", "accounts.google.com"):
        claims = await verifier.verify_token("Bearer " + sim.key.sign(_claims(sim, iss=iss)))
        assert claims["email"] == sim.config.push_service_account


async def test_rotated_keys_are_fetched_again_for_an_unknown_key_id(keys_and_verifier):
    sim, verifier = keys_and_verifier
    await verifier.verify_token("Bearer " + sim.key.sign(_claims(sim)))
    from posada_sim_gmail.keys import SigningKey

    sim.key = SigningKey()  # Google rotated its signing key
    claims = await verifier.verify_token("Bearer " + sim.key.sign(_claims(sim)))
    assert claims["aud"] == AUD


@pytest.mark.parametrize(
    "override",
    [
        {"exp": int(time.time()) - 120},
        {"aud": "https://other.example"},
        {"iss": "https://accounts.google.com.evil"},
        {"email": "someone@else.iam.gserviceaccount.com"},
        {"email_verified": False},
    ],
)
async def test_wrong_claims_are_rejected(keys_and_verifier, override):
    sim, verifier = keys_and_verifier
    with pytest.raises(PushRejected):
        await verifier.verify_token("Bearer " + sim.key.sign(_claims(sim, **override)))


async def test_missing_or_unsigned_tokens_are_rejected(keys_and_verifier):
    sim, verifier = keys_and_verifier
    import jwt

    unsigned = jwt.encode(_claims(sim), key="", algorithm="none")
    hs = jwt.encode(_claims(sim), key="x" * 32, algorithm="HS256", headers={"kid": sim.key.kid})
    for auth in ("", "Basic abc", "Bearer", "Bearer " + unsigned, "Bearer " + hs):
        with pytest.raises(PushRejected):
            await verifier.verify_token(auth)


def _envelope(data: dict, subscription: str = "projects/p/subscriptions/s") -> dict:
    raw = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return {"message": {"data": raw, "message_id": "42"}, "subscription": subscription}


def test_push_envelopes_accept_string_or_number_history_ids_and_unpadded_base64url():
    a = parse_push(_envelope({"emailAddress": "R@Hotel.example", "historyId": "4918273"}))
    b = parse_push(_envelope({"emailAddress": "r@hotel.example", "historyId": 4918273}))
    assert a.history_id == b.history_id == 4918273
    assert a.email_address == "r@hotel.example" and a.pubsub_id == "42"


def test_malformed_envelopes_and_foreign_subscriptions_are_refused():
    for body in ({}, {"message": "x"}, _envelope({"emailAddress": "x"}), [], None):
        with pytest.raises(ValueError):
            parse_push(body)
    with pytest.raises(PushRejected):
        parse_push(
            _envelope({"emailAddress": "a@b", "historyId": 1}, "projects/x/subscriptions/y"),
            "projects/p/subscriptions/s",
        )
