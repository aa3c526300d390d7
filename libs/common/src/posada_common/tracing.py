"""OpenTelemetry tracing: one tracer provider per process, gRPC instrumented both ways.

The grpc instrumentation injects and extracts W3C trace context in metadata, so a trace
started by the gateway continues through Envoy into conversation, nlp and pms. Export is
OTLP/gRPC when `OTLP_ENDPOINT` is set; otherwise spans are still created (so log lines carry
trace ids) but not exported.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

_configured = False


def configure_tracing(
    service: str,
    version: str,
    otlp_endpoint: str = "",
    console: bool = False,
    extra_exporter: SpanExporter | None = None,
) -> TracerProvider:
    """Install the global tracer provider once; later calls return the existing one."""
    global _configured
    current = trace.get_tracer_provider()
    if _configured and isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": service, "service.version": version, "service.namespace": "posada"}
        )
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, insecure=True, timeout=5))
        )
    if console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    if extra_exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(extra_exporter))
    trace.set_tracer_provider(provider)
    _configured = True
    return provider


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)
