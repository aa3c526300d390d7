"""Optional single sign-on: OpenID Connect authorization-code flow with PKCE.

For hotels that already have an identity provider (Google Workspace, Microsoft Entra, Keycloak):
`/console/oidc/start` sends the browser to the provider with a one-time `state`, a `nonce` and a
PKCE challenge (kept in Redis for 10 minutes); `/console/oidc/callback` takes the code back once,
exchanges it at the token endpoint with the client secret and the PKCE verifier, and checks the
ID token's signature (the provider's JWKS), issuer, audience, expiry and nonce. The identity
must belong to a console account: first by the `issuer|subject` linked earlier, else by a
verified e-mail equal to an account's login name (`hotelctl staff add maria@hotel.com ...`),
which links it. No account, no session: the provider vouches for who someone is, the console
decides what they may do (hotel and role live in the account).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt
import redis.asyncio as aioredis
from aiohttp import web
from posada_common.logging import get_logger

from .metrics import LOGINS
from .settings import ConsoleSettings

log = get_logger(__name__)
STATE_TTL = 600
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)
ALGORITHMS = ["RS256", "ES256", "EdDSA"]


class OidcError(Exception):
    """The sign-in cannot complete; the message is safe to log (no tokens)."""


class OidcLogin:
    def __init__(self, settings: ConsoleSettings, redis: aioredis.Redis):
        self.settings = settings
        self.redis = redis
        self._metadata: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None
        self._jwks_at = 0.0

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http, http.get(url) as resp:
            if resp.status != 200:
                raise OidcError(f"{url} answered {resp.status}")
            return dict(await resp.json(content_type=None))

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            issuer = self.settings.oidc_issuer.rstrip("/")
            meta = await self._get_json(f"{issuer}/.well-known/openid-configuration")
            if meta.get("issuer", "").rstrip("/") != issuer:
                raise OidcError("the discovery document names another issuer")
            self._metadata = meta
        return self._metadata

    async def _key(self, kid: str | None) -> Any:
        """The provider's signing key `kid` (JWKS refetched at most once a minute on a miss)."""
        for attempt in range(2):
            if self._jwks is None or (attempt and time.monotonic() - self._jwks_at > 60):
                self._jwks = await self._get_json((await self.metadata())["jwks_uri"])
                self._jwks_at = time.monotonic()
            for key in self._jwks.get("keys", []):
                if kid is None or key.get("kid") == kid:
                    return jwt.PyJWK(key).key
        raise OidcError("the ID token is signed with a key the provider does not publish")

    # -- the two steps -----------------------------------------------------------------

    async def start(self, next_url: str) -> str:
        """Where to send the browser: the provider's authorization endpoint."""
        meta = await self.metadata()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        await self.redis.set(
            f"console:oidc:{state}",
            json.dumps({"nonce": nonce, "verifier": verifier, "next": next_url}),
            ex=STATE_TTL,
        )
        query = {
            "response_type": "code",
            "client_id": self.settings.oidc_client_id,
            "redirect_uri": self.settings.oidc_redirect_url,
            "scope": self.settings.oidc_scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{meta['authorization_endpoint']}?{urlencode(query)}"

    async def finish(self, state: str, code: str) -> tuple[dict[str, Any], str]:
        """The verified ID token claims and where to go next; OidcError otherwise."""
        raw = await self.redis.getdel(f"console:oidc:{state[:100]}") if state else None
        if raw is None:
            raise OidcError("unknown or already used state (start the sign-in again)")
        pending = json.loads(raw)
        meta = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.oidc_redirect_url,
            "client_id": self.settings.oidc_client_id,
            "client_secret": self.settings.oidc_client_secret.get_secret_value(),
            "code_verifier": pending["verifier"],
        }
        async with (
            aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
            http.post(meta["token_endpoint"], data=form) as resp,
        ):
            body = await resp.json(content_type=None)
            if resp.status != 200 or "id_token" not in body:
                raise OidcError(f"the token endpoint refused the code ({resp.status})")
        token = str(body["id_token"])
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token,
                await self._key(header.get("kid")),
                algorithms=ALGORITHMS,
                audience=self.settings.oidc_client_id,
                issuer=meta["issuer"],
                leeway=30,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise OidcError(f"invalid ID token: {type(exc).__name__}") from exc
        if not secrets.compare_digest(str(claims.get("nonce", "")), pending["nonce"]):
            raise OidcError("the ID token's nonce does not match this sign-in")
        return claims, str(pending["next"])

    # -- routes ------------------------------------------------------------------------

    def add_routes(self, app: web.Application, prefix: str) -> None:
        app.router.add_get(prefix + "/oidc/start", self._start)
        app.router.add_get(prefix + "/oidc/callback", self._callback)

    async def _start(self, request: web.Request) -> web.StreamResponse:
        from .app import CONSOLE, _safe_next

        console = request.app[CONSOLE]
        try:
            location = await self.start(_safe_next(console, request.query.get("next")))
        except (OidcError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("oidc_unavailable", error=str(exc))
            raise web.HTTPSeeOther(f"{console.prefix}/login?e=oidc") from exc
        raise web.HTTPSeeOther(location)

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        from .app import CONSOLE, start_session

        console = request.app[CONSOLE]
        failed = web.HTTPSeeOther(f"{console.prefix}/login?e=oidc")
        if request.query.get("error"):
            log.info("oidc_denied", error=request.query.get("error", "")[:100])
            raise failed
        try:
            claims, next_url = await self.finish(
                request.query.get("state", ""), request.query.get("code", "")
            )
        except (OidcError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("oidc_failed", error=str(exc))
            LOGINS.labels("oidc", "failed").inc()
            raise failed from exc
        email = str(claims.get("email", "")) if claims.get("email_verified") is True else ""
        account = await console.accounts.by_oidc(f"{claims['iss']}|{claims['sub']}", email)
        if account is None:
            log.info("oidc_no_account", issuer=claims["iss"])
            raise web.HTTPSeeOther(f"{console.prefix}/login?e=oidc_account")
        LOGINS.labels("oidc", "ok").inc()
        return await start_session(request, account, next_url)
