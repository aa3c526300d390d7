"""Channel adapters behind one port (`base.ChannelAdapter`), found by channel in a registry."""

from .base import (
    ChannelAdapter,
    ChannelError,
    Choice,
    Destination,
    Inbox,
    OutboundPart,
    SendResult,
    TurnState,
)
from .registry import ChannelRegistry, UnknownChannel

__all__ = [
    "ChannelAdapter",
    "ChannelError",
    "ChannelRegistry",
    "Choice",
    "Destination",
    "Inbox",
    "OutboundPart",
    "SendResult",
    "TurnState",
    "UnknownChannel",
]
