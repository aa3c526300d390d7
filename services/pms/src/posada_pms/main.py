"""Entry point of the pms service: QloApps adapter behind `hotel.pms.v1.PmsService`."""

from __future__ import annotations

import asyncio

from hotel.pms.v1 import pms_service_pb2, pms_service_pb2_grpc
from posada_common.logging import get_logger
from posada_common.redis import connect_redis
from posada_common.server import ServiceRuntime, run_service
from posada_common.settings import load_settings

from posada_pms.servicer import PmsServicer
from posada_pms.settings import PmsSettings
from posada_pms.wiring import build

SERVICE_NAME = pms_service_pb2.DESCRIPTOR.services_by_name["PmsService"].full_name
log = get_logger(__name__)
REQUIRED_RESOURCES = {
    "hotels", "room_types", "hotel_room_types", "hotel_ari", "bookings", "room_bookings",
    "orders", "order_histories", "customers",
}  # fmt: skip


async def register(rt: ServiceRuntime) -> None:
    settings = rt.settings
    assert isinstance(settings, PmsSettings)
    redis = connect_redis(settings.redis_url, max_connections=128)
    parts = build(settings, redis)
    rt.state["pms"] = parts
    pms_service_pb2_grpc.add_PmsServiceServicer_to_server(PmsServicer(parts.core), rt.server)
    rt.add_cleanup(redis.aclose)
    rt.add_cleanup(parts.close)  # runs first: HTTP session, then Redis
    log.info("pms_configured", pms_base_url=settings.pms_base_url)


async def warmup(rt: ServiceRuntime) -> None:
    """Best effort: prime the static cache. A PMS that is down must not keep us NOT_SERVING,
    because we still answer (UNAVAILABLE, fast, through the breaker) and Envoy must reach us."""
    parts = rt.state["pms"]
    try:
        async with asyncio.timeout(10):
            resources = await parts.client.get("", i18n=False)
            # Version check (docs/external-apis/qloapps.md#versions): the bookings API arrived in 1.6.1 with `room_bookings`.
            granted = set(resources) if isinstance(resources, list) else set()
            missing = sorted(REQUIRED_RESOURCES - granted)
            if missing:
                log.error(
                    "qloapps_resources_missing",
                    missing=missing,
                    hint="needs QloApps >= 1.6.1 and key permissions",
                )
            hotels = await parts.core.catalogue.hotels()
        log.info("pms_warm", hotels=len(hotels), qloapps_resources_ok=not missing)
    except Exception as exc:  # best effort: reported, never fatal
        log.warning("pms_warmup_skipped", error=str(exc))


def main() -> None:
    run_service(
        load_settings(PmsSettings), service_names=[SERVICE_NAME], register=register, warmup=warmup
    )


if __name__ == "__main__":
    main()
