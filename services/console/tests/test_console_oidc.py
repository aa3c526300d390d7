"""Single sign-on against a local OpenID Connect provider: code flow, PKCE, account mapping."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from console_harness import PASSWORD
from oidc_provider import Provider
from posada_common.testing import free_port
from posada_console.main import running
from posada_console.settings import ConsoleSettings
from pydantic import SecretStr


@pytest.fixture
async def sso(stack, console_db: str, redis_url: str) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    port = free_port()
    callback = f"http://127.0.0.1:{port}/console/oidc/callback"
    provider = await Provider("posada-console", "provider-secret-1", callback).start()
    settings = ConsoleSettings(
        http_port=port,
        postgres_url=console_db,
        redis_url=redis_url,
        mesh_address=stack.conversation_address,
        oidc_issuer=provider.issuer,
        oidc_client_id="posada-console",
        oidc_client_secret=SecretStr("provider-secret-1"),
        oidc_redirect_url=callback,
    )
    async with running(settings) as console:
        yield provider, console
    await provider.stop()


async def _sign_in(url: str) -> tuple[str, str]:
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
        http.get(f"{url}/oidc/start") as resp,
    ):
        return str(resp.url), await resp.text()


async def test_a_verified_email_of_a_staff_account_signs_in_and_is_linked(stack, sso):  # type: ignore[no-untyped-def]
    provider, console = sso
    login = f"ana{uuid.uuid4().hex[:6]}@hotel.test"
    await stack.accounts.add(login, "Ana Sso", "1", "agent", PASSWORD)
    provider.user = {"sub": "u-" + login, "email": login, "email_verified": True}
    url, page = await _sign_in(console.url)
    assert url.endswith("/console/inbox") and "Ana Sso" in page
    # Linked: the next sign-in finds the account by issuer|subject, even with another e-mail.
    provider.user = {"sub": "u-" + login, "email": "renamed@hotel.test", "email_verified": True}
    url, page = await _sign_in(console.url)
    assert url.endswith("/console/inbox") and "Ana Sso" in page


async def test_unknown_or_unverified_identities_get_no_session(stack, sso):  # type: ignore[no-untyped-def]
    provider, console = sso
    login = f"bea{uuid.uuid4().hex[:6]}@hotel.test"
    await stack.accounts.add(login, "Bea", "1", "agent", PASSWORD)
    provider.user = {"sub": "u-unverified", "email": login, "email_verified": False}
    url, _ = await _sign_in(console.url)
    assert "e=oidc_account" in url
    provider.user = {"sub": "u-stranger", "email": "nobody@else.test", "email_verified": True}
    url, _ = await _sign_in(console.url)
    assert "e=oidc_account" in url


async def test_a_token_with_another_nonce_is_refused(stack, sso):  # type: ignore[no-untyped-def]
    provider, console = sso
    login = f"cai{uuid.uuid4().hex[:6]}@hotel.test"
    await stack.accounts.add(login, "Cai", "1", "agent", PASSWORD)
    provider.user = {"sub": "u-" + login, "email": login, "email_verified": True}
    provider.nonce_override = "replayed-nonce"
    url, _ = await _sign_in(console.url)
    assert "e=oidc" in url and "/inbox" not in url


async def test_a_callback_state_works_once(stack, sso):  # type: ignore[no-untyped-def]
    provider, console = sso
    login = f"dan{uuid.uuid4().hex[:6]}@hotel.test"
    await stack.accounts.add(login, "Dan", "1", "agent", PASSWORD)
    provider.user = {"sub": "u-" + login, "email": login, "email_verified": True}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{console.url}/oidc/start", allow_redirects=False) as resp:
            authorize = resp.headers["Location"]
        async with http.get(authorize, allow_redirects=False) as resp:
            callback = resp.headers["Location"]
        async with http.get(callback) as resp:
            assert str(resp.url).endswith("/console/inbox")
        async with http.get(callback) as resp:  # the same state again
            assert "e=oidc" in str(resp.url)
