"""WhatsApp Cloud API simulator: Meta's side of the Graph API, signed webhooks, a chat page."""

from .app import RunningSimulator, build_app, running_simulator, start_simulator
from .config import SimConfig
from .webhooks import sign

__all__ = [
    "RunningSimulator",
    "SimConfig",
    "build_app",
    "running_simulator",
    "sign",
    "start_simulator",
]
