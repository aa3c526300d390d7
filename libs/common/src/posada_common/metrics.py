"""Prometheus metrics shared by every service, and the `/metrics` endpoint.

RPC metrics follow the usual gRPC server conventions (requests by service/method/code and a
latency histogram) so one Grafana dashboard and one set of alert rules fit every service.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RPC_REQUESTS = Counter(
    "posada_grpc_server_handled",
    "RPCs completed by the server, by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
RPC_LATENCY = Histogram(
    "posada_grpc_server_handling_seconds",
    "Time to handle an RPC, by service and method.",
    ["grpc_service", "grpc_method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RPC_IN_FLIGHT = Gauge(
    "posada_grpc_server_in_flight", "RPCs being handled now.", ["grpc_service", "grpc_method"]
)
SERVICE_INFO = Gauge(
    "posada_service_info",
    "Constant 1, labelled with the running service and version.",
    ["service", "version"],
)
SERVICE_READY = Gauge(
    "posada_service_ready", "1 when the service's health is SERVING (warm-up done).", ["service"]
)


def start_metrics_server(host: str, port: int) -> int:
    """Serve the default registry at http://host:port/metrics; returns the bound port."""
    if port == 0:
        return 0
    server, _thread = start_http_server(port, addr=host)
    return int(server.server_address[1])


def split_method(full_method: str) -> tuple[str, str]:
    """'/hotel.nlp.v1.NlpService/Parse' -> ('hotel.nlp.v1.NlpService', 'Parse')."""
    parts = full_method.strip("/").split("/", 1)
    if len(parts) != 2:
        return full_method, ""
    return parts[0], parts[1]
