"""Builds the service's parts from settings (shared by main, tests and the benchmark)."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from posada_pms.breaker import SharedCircuitBreaker
from posada_pms.cache import PmsCache
from posada_pms.core import PmsCore
from posada_pms.locks import StayLocks
from posada_pms.model import CoreOptions
from posada_pms.qloapps import QloAppsClient, QloUnavailable
from posada_pms.settings import PmsSettings


def is_outage(exc: BaseException) -> bool:
    """What counts against the breaker: QloApps down, slow or 5xx; not 4xx, not cancellations."""
    return isinstance(exc, QloUnavailable)


@dataclass
class PmsParts:
    core: PmsCore
    client: QloAppsClient
    breaker: SharedCircuitBreaker
    cache: PmsCache

    async def close(self) -> None:
        await self.client.close()


def build(settings: PmsSettings, redis: aioredis.Redis) -> PmsParts:
    breaker = SharedCircuitBreaker(
        redis,
        name="qloapps",
        fail_max=settings.pms_breaker_fail_max,
        reset_timeout=settings.pms_breaker_reset_seconds,
        reset_timeout_max=settings.pms_breaker_reset_max_seconds,
        trial_lease=settings.pms_write_timeout_seconds + 5.0,
        success_threshold=settings.pms_breaker_success_threshold,
        is_failure=is_outage,
    )
    client = QloAppsClient(
        settings.pms_base_url,
        settings.pms_api_key.get_secret_value(),
        timeout=settings.pms_timeout_seconds,
        write_timeout=settings.pms_write_timeout_seconds,
        connect_timeout=settings.pms_connect_timeout_seconds,
        read_retries=settings.pms_read_retries,
        backoff_base=settings.pms_retry_backoff_seconds,
        backoff_max=settings.pms_retry_backoff_max_seconds,
        language_id=settings.pms_language_id,
        breaker=breaker,
    )
    cache = PmsCache(
        redis,
        availability_ttl=settings.pms_availability_ttl_seconds,
        static_ttl=settings.pms_static_ttl_seconds,
    )
    locks = StayLocks(
        redis,
        lease_seconds=settings.pms_lock_lease_seconds,
        wait_seconds=settings.pms_lock_wait_seconds,
    )
    core = PmsCore(
        client,
        cache,
        locks,
        redis,
        CoreOptions(
            max_stay_nights=settings.pms_max_stay_nights,
            max_advance_days=settings.pms_max_advance_days,
            default_time_zone=settings.pms_default_time_zone,
            hotel_time_zones=dict(settings.pms_hotel_time_zones),
        ),
    )
    return PmsParts(core=core, client=client, breaker=breaker, cache=cache)
