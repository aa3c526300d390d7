"""Prometheus metrics shared by every service, and the `/metrics` endpoint.

RPC metrics follow the usual gRPC server conventions (requests by service/method/code and a
latency histogram) so one Grafana dashboard and one set of alert rules fit every service.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# Every service's p99 budget (deploy/mesh.yaml `canary.p99_budget`: nlp 0.5 s, pms and gateway
# 3 s, conversation 20 s, audio 45 s) is a bucket bound, and a bucket above it exists, so a p99
# over budget is measurable (histogram_quantile never answers above the highest finite bound).
# The top bound is Envoy's longest route timeout (audio, 120 s).
RPC_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1, 2.5, 3, 5, 10, 20, 30, 45, 60, 90, 120,
)  # fmt: skip
# The status codes that count against a service's error budget (alerts, canary analysis).
SERVER_FAULT_CODES = (
    "UNKNOWN", "INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "DATA_LOSS", "UNIMPLEMENTED",
)  # fmt: skip

RPC_REQUESTS = Counter(
    "posada_grpc_server_handled",
    "RPCs completed by the server, by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
RPC_LATENCY = Histogram(
    "posada_grpc_server_handling_seconds",
    "Time to handle an RPC, by service and method.",
    ["grpc_service", "grpc_method"],
    buckets=RPC_LATENCY_BUCKETS,
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


def precreate_rpc_series(grpc_service: str, methods: Iterable[str]) -> None:
    """Export every method's OK and server-fault counters, and its histogram, at zero.

    A labelled series only appears on its first `inc()`, and `rate()`/`increase()` need two
    samples: without this, the first failure after a start is invisible to alerts and to the
    canary analysis (a service failing every call would show no fault series until the second).
    """
    for method in methods:
        for code in ("OK", *SERVER_FAULT_CODES):
            RPC_REQUESTS.labels(grpc_service, method, code)
        RPC_LATENCY.labels(grpc_service, method)
        RPC_IN_FLIGHT.labels(grpc_service, method)


def precreate(metric: Counter | Gauge | Histogram, *label_sets: Sequence[str]) -> None:
    """Create the given label combinations at zero, so they are scraped before the first event."""
    for values in label_sets:
        metric.labels(*values)


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
