"""Answers to questions about the hotel: location, amenities, policies.

Everything said here comes from the pms hotel record in the guest's language; when it has
no answer the guest is offered a human rather than a guess.
"""

from __future__ import annotations

import re
import urllib.parse

from hotel.channel.v1 import message_pb2
from hotel.pms.v1 import pms_service_pb2 as pms_pb2

from ..deps import DependencyDown, DependencyError
from .parsing import fold
from .records import POLICY_TOPIC
from .smalltalk import SmallTalk
from .state import OutReply, Turn


class HotelInfo(SmallTalk):
    """FAQ answers built only from pms hotel data."""

    @staticmethod
    def _policy_text(hotel: pms_pb2.Hotel, topic: int) -> str:
        return "\n".join(p.text for p in hotel.policies if p.topic == topic and p.text)

    async def _location(self, turn: Turn) -> None:
        hotel = await self.hotel(turn.session.hotel_id, turn.catalog.language)
        hotel_address = hotel.address
        city = " ".join(x for x in (hotel_address.postcode, hotel_address.city) if x)
        address = ", ".join(
            x for x in (hotel_address.line1, hotel_address.line2, city, hotel_address.state) if x
        )
        if hotel.latitude or hotel.longitude:
            query = f"{hotel.latitude:.6f},{hotel.longitude:.6f}"
        else:
            query = f"{hotel.name}, {address}"
        map_url = "https://www.google.com/maps/search/?api=1&query=" + urllib.parse.quote(
            query, safe=","
        )
        turn.say(
            "messages.location", preview_url=True, address=address or hotel.name, map_url=map_url
        )
        # How far things are (stations, landmarks, airport), as the hotel's description says.
        near = (await self.facts(turn.session.hotel_id, turn.catalog.language)).distances()
        if near:
            turn.say("messages.location_details", text=" ".join(f.text for f in near))
        if hotel.latitude or hotel.longitude:
            turn.out.replies.append(
                OutReply(
                    message_pb2.Reply(
                        location=message_pb2.LocationReply(
                            latitude=hotel.latitude,
                            longitude=hotel.longitude,
                            name=hotel.name,
                            address=address,
                        )
                    ),
                    address,
                    "location",
                )
            )

    async def _amenities(self, turn: Turn) -> None:
        """Each amenity asked about, in the hotel's own words (paid, nearby, seasonal...)."""
        hotel = await self.hotel(turn.session.hotel_id, turn.catalog.language)
        facts = await self.facts(turn.session.hotel_id, turn.catalog.language)
        asked = list(dict.fromkeys(turn.understanding.entities.get("amenity") or []))
        if not asked:
            hits = facts.search(turn.understanding.text)
            if hits:
                turn.say("messages.policy_text", text=" ".join(f.text for f in hits))
                return
            names = list(hotel.features) or [
                turn.catalog.name("amenities", a) for a in hotel.amenities
            ]
            if not names:
                turn.buttons("messages.policy_unknown", [("menu:human", "human")])
                return
            turn.say("messages.amenities_list", hotel=hotel.name, amenities=", ".join(names))
            return
        unknown = False
        for amenity in asked:
            words = sorted(self.amenity_words.get(amenity, set()) | {amenity})
            hits = facts.mentioning(words)
            features = [f for f in hits if f.kind == "feature"]
            if hits:
                shown = features or hits[:2]
                turn.say(
                    "messages.amenity_facts",
                    amenity=turn.catalog.name("amenities", amenity),
                    facts="; ".join(f.text.rstrip(".") for f in shown),
                )
            elif rooms := await self._rooms_with(turn, amenity):
                # Not a hotel feature but in some rooms (air conditioning, Wi-Fi in the room).
                turn.say(
                    "messages.amenity_in_rooms",
                    amenity=turn.catalog.name("amenities", amenity),
                    rooms=", ".join(rooms),
                )
            else:
                unknown = True
                turn.say(
                    "messages.amenity_not_listed", amenity=turn.catalog.name("amenities", amenity)
                )
        if unknown:
            turn.buttons("messages.offer_person", [("menu:human", "human")])

    async def _rooms_with(self, turn: Turn, amenity: str) -> list[str]:
        try:
            rooms = await self.pms.list_room_types(turn.session.hotel_id, turn.catalog.language)
        except (DependencyDown, DependencyError):
            return []
        return [r.name for r in rooms if amenity in r.amenities]

    def _topics(self, text: str) -> list[str]:
        folded = f" {fold(text)} "
        found: list[tuple[int, str]] = []
        for topic, words in self.topic_words.items():
            if any(re.search(rf"(?<!\w){re.escape(w)}(?:s|es)?(?!\w)", folded) for w in words):
                found.append((folded.find(next(w for w in words if w in folded)), topic))
        # In the order the guest asked.
        return [topic for _, topic in sorted(found)]

    async def _policies(self, turn: Turn) -> None:
        hotel = await self.hotel(turn.session.hotel_id, turn.catalog.language)
        topics = self._topics(turn.understanding.text)
        if not topics:
            # Not a known topic: the hotel's texts that answer it, if any do.
            hits = (await self.facts(turn.session.hotel_id, turn.catalog.language)).search(
                turn.understanding.text
            )
            if hits:
                turn.say("messages.policy_text", text=" ".join(f.text for f in hits))
                return
            topics = ["check_in", "check_out", "cancellation"]
        said = False
        for topic in topics:
            if topic == "check_in" and hotel.check_in_time:
                turn.say("messages.check_in_time", time=hotel.check_in_time)
                said = True
            elif topic == "check_out" and hotel.check_out_time:
                turn.say("messages.check_out_time", time=hotel.check_out_time)
                said = True
            else:
                text = self._policy_text(hotel, POLICY_TOPIC[topic])
                if text:
                    turn.say("messages.policy_text", text=text)
                    said = True
        if not said:
            turn.buttons("messages.policy_unknown", [("menu:human", "human")])
