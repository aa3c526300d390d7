"""A tiny OTLP/gRPC trace receiver, so e2e tests can see the spans services export."""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # trace id (hex) -> set of (service.name, span name)
        self.traces: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def Export(self, request, context):  # type: ignore[no-untyped-def]
        with self.lock:
            for resource_spans in request.resource_spans:
                service = next(
                    (
                        a.value.string_value
                        for a in resource_spans.resource.attributes
                        if a.key == "service.name"
                    ),
                    "?",
                )
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self.traces[span.trace_id.hex()].add((service, span.name))
        return trace_service_pb2.ExportTraceServiceResponse()

    def services_in(self, trace_id: str) -> set[str]:
        with self.lock:
            return {svc for svc, _ in self.traces.get(trace_id, set())}


def start_collector(port: int = 0) -> tuple[grpc.Server, Collector, int]:
    """The collector on `port`, by default one the OS picks while binding (no port race)."""
    collector = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, collector, bound
