"""The pms core: the parts that know QloApps, wired together, free of protobuf.

`Catalogue` (hotel facts), `Availability` (offers and prices), `BookingReader` (reads and
searches), `Bookings` (create, cancel, modify with idempotency and locks). The gRPC servicer
(`servicer.py`) is the only place that converts messages to and from these plain values.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from posada_pms.availability import Availability
from posada_pms.booking_reads import BookingReader
from posada_pms.bookings import Bookings
from posada_pms.cache import PmsCache
from posada_pms.catalogue import Catalogue
from posada_pms.idempotency import IdempotencyKeys
from posada_pms.locks import StayLocks
from posada_pms.model import CoreOptions
from posada_pms.qloapps import QloAppsClient


class PmsCore:
    def __init__(
        self,
        client: QloAppsClient,
        cache: PmsCache,
        locks: StayLocks,
        redis: aioredis.Redis,
        options: CoreOptions | None = None,
    ) -> None:
        self.options = options or CoreOptions()
        self.cache = cache
        self.catalogue = Catalogue(client, cache, self.options)
        self.availability = Availability(client, cache, self.catalogue)
        self.reader = BookingReader(client, self.catalogue, self.options)
        self.bookings = Bookings(
            client,
            cache,
            locks,
            self.catalogue,
            self.availability,
            self.reader,
            IdempotencyKeys(client, redis, self.options),
            self.options.limits,
        )
