"""Entry point of the nlp service: wires its servicer into the common server skeleton.

``register`` adds the servicer (answering UNAVAILABLE until the model is in); ``warmup``
loads the newest model from NLP_MODEL_DIR in a thread (training one first when none exists
and NLP_TRAIN_IF_MISSING is on), so the per-service health stays NOT_SERVING until then.
"""

from __future__ import annotations

import asyncio

from hotel.nlp.v1 import nlp_service_pb2, nlp_service_pb2_grpc
from posada_common.logging import get_logger
from posada_common.server import ServiceRuntime, run_service
from posada_common.settings import load_settings

from posada_nlp.backend import load_backend
from posada_nlp.servicer import NlpServicer
from posada_nlp.settings import NlpSettings

SERVICE_NAME = nlp_service_pb2.DESCRIPTOR.services_by_name["NlpService"].full_name
log = get_logger(__name__)


async def register(rt: ServiceRuntime) -> None:
    settings = rt.settings
    assert isinstance(settings, NlpSettings)
    servicer = NlpServicer(inline_batch_max=settings.nlp_inline_batch_max)
    rt.state["nlp_servicer"] = servicer
    nlp_service_pb2_grpc.add_NlpServiceServicer_to_server(servicer, rt.server)


async def warmup(rt: ServiceRuntime) -> None:
    settings = rt.settings
    assert isinstance(settings, NlpSettings)
    engine = await asyncio.to_thread(
        load_backend,
        settings.nlp_model_dir,
        train_if_missing=settings.nlp_train_if_missing,
        engine=settings.nlp_engine,
        rasa_url=settings.rasa_url,
        rasa_timeout=settings.rasa_timeout_seconds,
    )
    # First parse pays for lazy imports and caches; do it before saying SERVING.
    if engine.engine_name == "spacy":
        await asyncio.to_thread(engine.parse, "hola, ¿tienen habitación doble para el viernes?")
    rt.state["nlp_servicer"].engine = engine
    close = getattr(engine, "close", None)
    if callable(close):
        rt.add_cleanup(close)
    log.info(
        "nlp_model_loaded",
        **{k: v for k, v in engine.info().items() if k in ("model_version", "engine", "data_hash")},
    )


def main() -> None:
    run_service(
        load_settings(NlpSettings), service_names=[SERVICE_NAME], register=register, warmup=warmup
    )


if __name__ == "__main__":
    main()
