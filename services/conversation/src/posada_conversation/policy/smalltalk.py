"""Greeting, help menu: the replies that need no booking data.

Thanks and goodbye are single template lines said by the router; what lives here is what
more than one flow reuses (the help menu is also the fallback for a message not understood).
"""

from __future__ import annotations

from ..deps import DependencyDown, DependencyError
from .staff import Staff
from .state import Turn


class SmallTalk(Staff):
    """The greeting (with the hotel's name when pms answers) and the help menu."""

    def _help(self, turn: Turn, key: str = "messages.help_menu") -> None:
        turn.buttons(
            key,
            [
                ("menu:availability", "availability"),
                ("menu:booking", "my_booking"),
                ("menu:human", "human"),
            ],
        )

    async def _greet(self, turn: Turn) -> None:
        try:
            hotel_name = (await self.hotel(turn.session.hotel_id, turn.catalog.language)).name
        except (DependencyDown, DependencyError):
            hotel_name = ""
        first = (turn.guest.display_name or "").split(" ")[0]
        turn.say(
            "messages.greeting",
            name=f" {first}" if first else "",
            hotel=hotel_name or turn.catalog.text("names.hotel_fallback"),
        )
        self._help(turn)
