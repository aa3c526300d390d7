"""Adapters by `hotel.channel.v1.Channel`: a new channel plugs in by registering."""

from __future__ import annotations

from collections.abc import Iterator

from hotel.channel.v1 import message_pb2 as m

from .base import ChannelAdapter


class UnknownChannel(LookupError):
    """No adapter is registered for the channel (a request for it is refused, not retried)."""


class ChannelRegistry:
    def __init__(self, default: int = m.CHANNEL_WHATSAPP):
        self._adapters: dict[int, ChannelAdapter] = {}
        # CHANNEL_UNSPECIFIED (old stream entries, SendMessage without a channel) means this one.
        self.default = default

    def register(self, adapter: ChannelAdapter) -> None:
        if adapter.channel in self._adapters:
            raise ValueError(f"channel {m.Channel.Name(adapter.channel)} registered twice")
        self._adapters[adapter.channel] = adapter

    def get(self, channel: int) -> ChannelAdapter:
        adapter = self._adapters.get(channel or self.default)
        if adapter is None:
            raise UnknownChannel(f"no adapter for {m.Channel.Name(channel or self.default)}")
        return adapter

    def __contains__(self, channel: int) -> bool:
        return (channel or self.default) in self._adapters

    def __iter__(self) -> Iterator[ChannelAdapter]:
        return iter(list(self._adapters.values()))
