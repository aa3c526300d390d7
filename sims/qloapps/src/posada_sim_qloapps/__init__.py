"""A QloApps 1.6.1 webservice stand-in for Posada (see README.md and API_NOTES.md)."""

from .app import STATE_KEY, create_app
from .seed import DEV_API_KEY, HOTELS_ONLY_KEY, INACTIVE_KEY, READONLY_KEY
from .testing import SimServer, running_server

__all__ = [
    "DEV_API_KEY",
    "HOTELS_ONLY_KEY",
    "INACTIVE_KEY",
    "READONLY_KEY",
    "STATE_KEY",
    "SimServer",
    "create_app",
    "running_server",
]
