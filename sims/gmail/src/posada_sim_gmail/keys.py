"""The stand-in's own signing key: it signs Pub/Sub push OIDC tokens with it and publishes the
public half at the same two addresses Google does (JWK set at /oauth2/v3/certs, PEM
certificates at /oauth2/v1/certs), so a gateway verifies pushes exactly as in production."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm


class SigningKey:
    def __init__(self) -> None:
        self.kid = secrets.token_hex(20)
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "posada-gmail-sim")])
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self.private, hashes.SHA256())
        )

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def pem_certs(self) -> dict[str, str]:
        return {self.kid: self.cert.public_bytes(serialization.Encoding.PEM).decode()}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})

    def push_token(
        self,
        *,
        audience: str,
        issuer: str,
        email: str,
        lifetime_s: int = 3600,
        now: float | None = None,
    ) -> str:
        """An ID token shaped like the one Pub/Sub attaches to an authenticated push."""
        iat = int(now if now is not None else time.time())
        sub = str(100000000000000000000 + (hash(email) % 10**18))
        return self.sign(
            {
                "aud": audience,
                "azp": sub,
                "email": email,
                "email_verified": True,
                "exp": iat + lifetime_s,
                "iat": iat,
                "iss": issuer,
                "sub": sub,
            }
        )
