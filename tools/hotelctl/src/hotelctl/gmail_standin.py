"""The e-mail side of `hotelctl up`: the Gmail API stand-in as the embedded default.

Unless `GMAIL_API_BASE` points at a real (or other) Gmail API, the stand-in runs on loopback
(`simulators.gmail.http_port` in deploy/mesh.yaml, +offset), the gateway runs in Gmail API mode
against it, and the stand-in's Pub/Sub pushes reach the gateway through Envoy's public
listener (`/webhooks/gmail`), signed with the stand-in's key whose JWK set the gateway trusts.
The stand-in itself (its mail view and control routes) is never routed through Envoy.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hotelctl.mesh import Mesh
from hotelctl.processes import ManagedProcess

DEV_DEFAULTS = {
    "GMAIL_SIM_TOKEN": "dev-gmail-token",
    "GMAIL_ADDRESS": "reservas@posada-demo.example",
    "GMAIL_CLIENT_ID": "posada-dev.apps.googleusercontent.com",
    "GMAIL_CLIENT_SECRET": "dev-gmail-client-secret",
    "GMAIL_REFRESH_TOKEN": "dev-gmail-refresh-token",
}
TOPIC = "projects/posada-dev/topics/gmail-inbound"
SUBSCRIPTION = "projects/posada-dev/subscriptions/gmail-inbound-push"
PUSH_ACCOUNT = "gmail-push@posada-dev.iam.gserviceaccount.com"


def gmail_port(mesh: Mesh) -> int:
    return int(mesh.simulators.get("gmail", {}).get("http_port", 8093 + mesh.offset))


def available() -> bool:
    return importlib.util.find_spec("posada_sim_gmail") is not None


def wanted(base_env: dict[str, str]) -> bool:
    """Start the stand-in? Not when a Gmail API is configured or e-mail is switched off."""
    return (
        "GMAIL_API_BASE" not in base_env
        and base_env.get("EMAIL_MODE", "gmail") == "gmail"
        and available()
    )


def add_env(env: dict[str, str], mesh: Mesh, base_env: dict[str, str]) -> None:
    """Settings of the stand-in and of the gateway's Gmail API mode (kept unless set)."""
    if not wanted(base_env):
        return
    port = gmail_port(mesh)
    base = f"http://127.0.0.1:{port}"
    push_url = f"http://127.0.0.1:{mesh.public_port}/webhooks/gmail"
    for key, value in DEV_DEFAULTS.items():
        env.setdefault(key, value)
    env.setdefault("EMAIL_MODE", "gmail")
    env.setdefault("EMAIL_ADDRESS", env["GMAIL_ADDRESS"])
    env.setdefault("GMAIL_API_BASE", base)
    env.setdefault("GMAIL_TOKEN_URI", f"{base}/token")
    env.setdefault("GMAIL_PUSH_JWKS_URL", f"{base}/oauth2/v3/certs")
    env.setdefault("GMAIL_TOPIC", TOPIC)
    env.setdefault("GMAIL_PUSH_SUBSCRIPTION", SUBSCRIPTION)
    env.setdefault("GMAIL_PUSH_SERVICE_ACCOUNT", PUSH_ACCOUNT)
    env.setdefault("GMAIL_PUSH_AUDIENCE", push_url)
    env.setdefault("GMAIL_SIM_PUSH_URL", push_url)


def start(mesh: Mesh, env: dict[str, str], python: str, logs: Path) -> ManagedProcess:
    argv = [
        python,
        "-m",
        "posada_sim_gmail",
        "--host",
        "127.0.0.1",
        "--port",
        str(gmail_port(mesh)),
    ]
    return ManagedProcess(
        "gmail-standin", argv, log_path=logs / "gmail-standin.log", env=env
    ).start()


def urls(mesh: Mesh, env: dict[str, str]) -> dict[str, str]:
    if env.get("EMAIL_MODE") != "gmail" or "GMAIL_SIM_PUSH_URL" not in env:
        return {}
    return {
        "mail view (Gmail stand-in)": f"http://127.0.0.1:{gmail_port(mesh)}/mail/",
        "hotel e-mail address": env.get("EMAIL_ADDRESS", ""),
        "Gmail webhook (Pub/Sub push)": f"http://127.0.0.1:{mesh.public_port}/webhooks/gmail",
    }
