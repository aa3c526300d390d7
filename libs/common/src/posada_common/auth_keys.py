"""Mesh credentials: one Ed25519 key pair per caller, plus the staff-token key pair.

Why Ed25519 key pairs rather than shared secrets: a service that *verifies* tokens only holds
public keys, so compromising pms (say) does not let anyone speak as conversation. Each process
gets only its own private key; the console alone also gets the staff-token signing key.

Keys travel as environment variables (base64url of the raw 32-byte keys), so `hotelctl up`,
docker-compose and Kubernetes Secrets pass them without files or translation tables:

- `MESH_IDENTITY`: the caller name this process speaks as (default: `SERVICE_NAME`).
- `MESH_PRIVATE_KEY`: this process's private key (a secret).
- `MESH_PUBLIC_KEYS`: `name:key,name:key,...`, every caller this process trusts. A name listed
  twice has two valid keys (the first current, the next retiring): rotate a caller's key by
  adding the new one first everywhere, then switching the caller, then dropping the old one.
- `STAFF_TOKEN_PUBLIC_KEY`: verifies staff tokens (conversation); `new,old` during a rotation.
- `STAFF_TOKEN_SIGNING_KEY`: signs staff tokens (console only; a secret).

Development credentials are generated once into a folder (`.run/credentials/` under
`make run`), files 0600, and reused on the next run so tokens minted by a running console stay
valid across restarts of single services.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

# Every caller that may hold a mesh identity. The authorisation table in deploy/mesh.yaml
# may only name these; a test keeps the two in step.
CALLERS = ("gateway", "conversation", "nlp", "audio", "pms", "console", "hotelctl")
STAFF_KEY_NAME = "staff"

ENV_IDENTITY = "MESH_IDENTITY"
ENV_PRIVATE_KEY = "MESH_PRIVATE_KEY"
ENV_PUBLIC_KEYS = "MESH_PUBLIC_KEYS"
ENV_STAFF_PUBLIC_KEY = "STAFF_TOKEN_PUBLIC_KEY"
ENV_STAFF_SIGNING_KEY = "STAFF_TOKEN_SIGNING_KEY"


class CredentialsError(ValueError):
    """Malformed or missing key material (message says which variable, never the value)."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise CredentialsError(f"{what} is not base64url") from exc
    if len(raw) != 32:
        raise CredentialsError(f"{what} must be a 32-byte Ed25519 key")
    return raw


def encode_private_key(key: Ed25519PrivateKey) -> str:
    return _b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def encode_public_key(key: Ed25519PublicKey) -> str:
    return _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def decode_private_key(text: str, what: str = ENV_PRIVATE_KEY) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_unb64(text, what))


def decode_public_key(text: str, what: str = ENV_PUBLIC_KEYS) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(text, what))


def parse_public_keys(
    text: str,
) -> tuple[dict[str, Ed25519PublicKey], dict[str, list[Ed25519PublicKey]]]:
    """`name:key,name:key` → ({name: current key}, {name: [retiring keys]}); blanks ignored."""
    out: dict[str, Ed25519PublicKey] = {}
    retiring: dict[str, list[Ed25519PublicKey]] = {}
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CredentialsError(f"{ENV_PUBLIC_KEYS} entries must look like name:key")
        key = decode_public_key(value, f"{ENV_PUBLIC_KEYS}[{name.strip()}]")
        if name.strip() in out:
            retiring.setdefault(name.strip(), []).append(key)
        else:
            out[name.strip()] = key
    return out, retiring


@dataclass
class MeshCredentials:
    """Key material one process holds.

    `private_keys` has one entry in a deployed service (its own identity); development and test
    credentials hold every caller's key so a test can speak as any of them.
    """

    identity: str = ""
    private_keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    public_keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    staff_signing_key: Ed25519PrivateKey | None = None
    staff_public_key: Ed25519PublicKey | None = None
    retiring_public_keys: dict[str, list[Ed25519PublicKey]] = field(default_factory=dict)
    retiring_staff_public_keys: list[Ed25519PublicKey] = field(default_factory=list)

    def public_keys_of(self, caller: str) -> list[Ed25519PublicKey]:
        """Every key a token from `caller` may be signed with (current first)."""
        current = self.public_keys.get(caller)
        return ([current] if current else []) + self.retiring_public_keys.get(caller, [])

    def staff_public_keys(self) -> list[Ed25519PublicKey]:
        current = [self.staff_public_key] if self.staff_public_key else []
        return current + self.retiring_staff_public_keys

    @property
    def empty(self) -> bool:
        return not self.public_keys and not self.private_keys

    def private_key(self, identity: str) -> Ed25519PrivateKey:
        key = self.private_keys.get(identity)
        if key is None:
            raise CredentialsError(f"no private key for mesh identity {identity!r}")
        return key

    def as_identity(self, identity: str) -> MeshCredentials:
        """The same trust, speaking as `identity` by default."""
        return MeshCredentials(
            identity,
            self.private_keys,
            self.public_keys,
            self.staff_signing_key,
            self.staff_public_key,
            self.retiring_public_keys,
            self.retiring_staff_public_keys,
        )

    def env_for(self, identity: str, *, staff_signing: bool | None = None) -> dict[str, str]:
        """Environment for a child process speaking as `identity` (only its own private key).

        The staff signing key goes only to the console unless `staff_signing` says otherwise.
        """
        env = {
            ENV_IDENTITY: identity,
            ENV_PRIVATE_KEY: encode_private_key(self.private_key(identity)),
            ENV_PUBLIC_KEYS: ",".join(
                f"{name}:{encode_public_key(key)}"
                for name in sorted(self.public_keys)
                for key in self.public_keys_of(name)
            ),
        }
        if self.staff_public_key is not None:
            env[ENV_STAFF_PUBLIC_KEY] = ",".join(
                encode_public_key(key) for key in self.staff_public_keys()
            )
        sign = identity == "console" if staff_signing is None else staff_signing
        if sign and self.staff_signing_key is not None:
            env[ENV_STAFF_SIGNING_KEY] = encode_private_key(self.staff_signing_key)
        return env


def credentials_from_env(env: Mapping[str, str], default_identity: str = "") -> MeshCredentials:
    """Credentials from `MESH_*` / `STAFF_TOKEN_*` variables (missing ones stay empty)."""
    identity = env.get(ENV_IDENTITY, "").strip() or default_identity
    creds = MeshCredentials(identity=identity)
    private = env.get(ENV_PRIVATE_KEY, "").strip()
    if private:
        creds.private_keys[identity] = decode_private_key(private)
    creds.public_keys, creds.retiring_public_keys = parse_public_keys(env.get(ENV_PUBLIC_KEYS, ""))
    staff_public = [
        decode_public_key(item, ENV_STAFF_PUBLIC_KEY)
        for item in env.get(ENV_STAFF_PUBLIC_KEY, "").split(",")
        if item.strip()
    ]
    if staff_public:
        creds.staff_public_key = staff_public[0]
        creds.retiring_staff_public_keys = staff_public[1:]
    staff_signing = env.get(ENV_STAFF_SIGNING_KEY, "").strip()
    if staff_signing:
        creds.staff_signing_key = decode_private_key(staff_signing, ENV_STAFF_SIGNING_KEY)
        if creds.staff_public_key is None:
            creds.staff_public_key = creds.staff_signing_key.public_key()
    return creds


def generate_credentials(
    callers: Iterable[str] = CALLERS, identity: str = "hotelctl"
) -> MeshCredentials:
    """Fresh keys for every caller and the staff tokens, all held (tests, dev runs)."""
    private = {name: Ed25519PrivateKey.generate() for name in callers}
    staff = Ed25519PrivateKey.generate()
    return MeshCredentials(
        identity=identity,
        private_keys=private,
        public_keys={name: key.public_key() for name, key in private.items()},
        staff_signing_key=staff,
        staff_public_key=staff.public_key(),
    )


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
    os.chmod(path, 0o600)


def load_or_create_dev_credentials(
    folder: Path, callers: Iterable[str] = CALLERS, identity: str = "hotelctl"
) -> MeshCredentials:
    """Development credentials in `folder` (`<name>.key`, 0600), created on first use.

    A missing caller's key is added without touching the others, so adding a service to the
    mesh does not invalidate what is running.
    """
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    private: dict[str, Ed25519PrivateKey] = {}
    for name in [*callers, STAFF_KEY_NAME]:
        path = folder / f"{name}.key"
        if path.exists():
            private[name] = decode_private_key(path.read_text(), str(path))
        else:
            private[name] = Ed25519PrivateKey.generate()
            _write_secret(path, encode_private_key(private[name]))
    staff = private.pop(STAFF_KEY_NAME)
    return MeshCredentials(
        identity=identity,
        private_keys=private,
        public_keys={name: key.public_key() for name, key in private.items()},
        staff_signing_key=staff,
        staff_public_key=staff.public_key(),
    )
