"""The console's settings: HTTP listener, cookies, login throttling, live updates, OIDC.

Like every Posada service, one typed object from environment variables (field name
upper-cased). Mesh credentials (MESH_*, STAFF_TOKEN_SIGNING_KEY) are read by
`posada_common.auth`; production refuses to start without them.
"""

from __future__ import annotations

from typing import Literal

from posada_common.settings import CommonSettings
from pydantic import Field, SecretStr, model_validator


class ConsoleSettings(CommonSettings):
    service_name: str = "console"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8096, ge=0, le=65535)
    public_prefix: str = Field(default="/console", description="path Envoy routes to us")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto", description="auto = Secure when the request came over TLS"
    )
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)
    login_max_attempts: int = Field(default=5, ge=1, description="per account and per address")
    login_window_seconds: int = Field(default=300, ge=1)
    live_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    staff_token_ttl_seconds: int = Field(default=900, ge=60, le=12 * 3600)
    rpc_deadline_seconds: float = Field(default=10.0, gt=0, le=120)
    # Optional single sign-on (OpenID Connect, authorization-code flow). Empty issuer = off.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_redirect_url: str = Field(
        default="",
        description="our callback as the browser sees it, e.g. https://h/console/oidc/callback",
    )
    oidc_scopes: str = "openid email profile"

    @model_validator(mode="after")
    def _prefix_shape(self) -> ConsoleSettings:
        if not self.public_prefix.startswith("/") or self.public_prefix.endswith("/"):
            raise ValueError("PUBLIC_PREFIX must start with / and not end with / (e.g. /console)")
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_redirect_url):
            raise ValueError("OIDC_ISSUER needs OIDC_CLIENT_ID and OIDC_REDIRECT_URL")
        return self

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)
