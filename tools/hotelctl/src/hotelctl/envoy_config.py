"""Renders Envoy's bootstrap config from the mesh description, for each place it runs.

Variants differ only in where upstreams live (loopback ports, compose service names,
Kubernetes headless services) and which interfaces listeners bind; routes, timeouts, retries,
health checks and outlier detection are the same code path for all of them.

Routing rules:
- public listener: `/webhooks/` → gateway's HTTP port; `/console/` → the staff console; `/sim/` → the WhatsApp simulator
  (local variant only, whose listeners bind loopback: it is a dev tool with a control API);
  `/healthz` answered by Envoy. Access logs record the path without its query string.
- mesh listener (HTTP/2, gRPC): `/hotel.<domain>.v1.` prefixes → that service; the idempotent
  methods get their own exact-path route with a retry policy on UNAVAILABLE; health and
  reflection (same path on every service) are routed by the `x-posada-service` header.
- every route honours the caller's `grpc-timeout` up to the route's timeout.
- local variant only: every service route (and the webhooks) has a canary twin in front of it
  that takes the share held in the runtime key `posada.canary.<service>` (default 0) to the
  `<service>_canary_*` cluster, for `hotelctl canary`'s one-machine rehearsal.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from hotelctl.mesh import REPO_ROOT, Mesh, ServiceSpec, load_mesh

VARIANTS = ("local", "compose", "k8s")
OUT_DIR = REPO_ROOT / "deploy" / "envoy"
SHARED_GRPC_SERVICES = (
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
)


def _dur(seconds: float) -> str:
    return f"{seconds:g}s"


def _address(variant: str, host_name: str) -> str:
    if variant == "local":
        return "127.0.0.1"
    if variant == "compose":
        return host_name
    return f"{host_name}-headless"


def _listen_address(variant: str) -> str:
    return "127.0.0.1" if variant == "local" else "0.0.0.0"


def _socket(address: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": address, "port_value": port}}


def _http2_options() -> dict[str, Any]:
    return {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": {
                "http2_protocol_options": {
                    "max_concurrent_streams": 1000,
                    "connection_keepalive": {"interval": "30s", "timeout": "10s"},
                }
            },
        }
    }


def _outlier_detection() -> dict[str, Any]:
    return {
        "consecutive_5xx": 5,
        "consecutive_gateway_failure": 3,
        "consecutive_local_origin_failure": 3,
        "split_external_local_origin_errors": True,
        "interval": "5s",
        "base_ejection_time": "15s",
        "max_ejection_percent": 50,
    }


def _cluster(
    name: str, variant: str, host: str, port: int, *, grpc: bool, health: dict[str, Any] | None
) -> dict[str, Any]:
    cluster: dict[str, Any] = {"name": name}
    if variant == "local":
        cluster["type"] = "STATIC"
    else:
        # The DNS cluster extension replaces the deprecated `type: STRICT_DNS` +
        # `dns_refresh_rate` pair (same behaviour: every A record is an endpoint).
        cluster["cluster_type"] = {
            "name": "envoy.clusters.dns",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster",
                "dns_refresh_rate": "5s",
                "dns_lookup_family": "V4_ONLY",
            },
        }
    cluster |= {
        "connect_timeout": "1s",
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {"endpoint": {"address": _socket(_address(variant, host), port)}}
                    ]
                }
            ],
        },
        "circuit_breakers": {
            "thresholds": [
                {
                    "priority": "DEFAULT",
                    "max_connections": 1024,
                    "max_pending_requests": 1024,
                    "max_requests": 2048,
                    "max_retries": 16,
                }
            ]
        },
        "outlier_detection": _outlier_detection(),
    }
    if variant != "local":
        # A pod that leaves DNS during a rollout stops getting traffic at once instead of
        # after failing health checks (its drain is shorter than interval × threshold).
        cluster["ignore_health_on_host_removal"] = True
    if grpc:
        cluster["typed_extension_protocol_options"] = _http2_options()
    if health is not None:
        cluster["health_checks"] = [
            {
                "timeout": "1s",
                "interval": "5s",
                "no_traffic_interval": "2s",
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                **health,
            }
        ]
        cluster["common_lb_config"] = {"healthy_panic_threshold": {"value": 0}}
    return cluster


def _grpc_route(svc: ServiceSpec, match: dict[str, Any], *, retry: bool) -> dict[str, Any]:
    action: dict[str, Any] = {
        "cluster": f"{svc.name}_grpc",
        "timeout": _dur(svc.timeout_seconds),
        "max_stream_duration": {"grpc_timeout_header_max": _dur(svc.timeout_seconds)},
    }
    if retry:
        action["retry_policy"] = {
            "retry_on": svc.retry_on,
            "num_retries": 2,
            "per_try_timeout": _dur(max(svc.timeout_seconds / 2, 0.5)),
            "retry_back_off": {"base_interval": "0.025s", "max_interval": "0.25s"},
            "retry_host_predicate": [
                {
                    "name": "envoy.retry_host_predicates.previous_hosts",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
                    },
                }
            ],
            "host_selection_retry_max_attempts": 3,
        }
    return {
        "name": match.get("path", match.get("prefix", "")),
        "match": {**match, "grpc": {}},
        "route": action,
    }


def canary_runtime_key(service: str) -> str:
    """Envoy runtime key holding the canary's share (0-100 %) of a service's traffic."""
    return f"posada.canary.{service}"


def _with_canary(route: dict[str, Any], service: str, canary_cluster: str) -> list[dict[str, Any]]:
    """[canary twin, route]: the twin takes `posada.canary.<service>` % of the matches.

    `hotelctl canary` changes the share with the admin endpoint `/runtime_modify`, so weights
    move without a restart or a config reload; the default 0 means no canary, no traffic.
    """
    twin = copy.deepcopy(route)
    twin["name"] = f"canary:{route['name']}"
    twin["match"]["runtime_fraction"] = {
        "default_value": {"numerator": 0, "denominator": "HUNDRED"},
        "runtime_key": canary_runtime_key(service),
    }
    twin["route"]["cluster"] = canary_cluster
    return [twin, route]


def _mesh_routes(mesh: Mesh, variant: str) -> list[dict[str, Any]]:
    routes: list[dict[str, Any]] = []
    for svc in mesh.services.values():
        own: list[dict[str, Any]] = []
        for path in svc.idempotent_paths():
            own.append(_grpc_route(svc, {"path": path}, retry=True))
        for grpc_service in svc.grpc_services:
            own.append(_grpc_route(svc, {"prefix": f"/{grpc_service}/"}, retry=False))
        for route in own:
            if variant == "local":
                routes.extend(_with_canary(route, svc.name, f"{svc.name}_canary_grpc"))
            else:
                routes.append(route)
        for shared in SHARED_GRPC_SERVICES:
            route = _grpc_route(
                svc,
                {
                    "prefix": f"/{shared}/",
                    "headers": [{"name": mesh.service_header, "string_match": {"exact": svc.name}}],
                },
                retry=shared == "grpc.health.v1.Health",
            )
            route["name"] = f"{svc.name}:{shared}"
            routes.append(route)
    return routes


def _hcm(
    stat_prefix: str,
    routes: list[dict[str, Any]],
    *,
    grpc: bool,
    max_request_bytes: int | None = None,
) -> dict[str, Any]:
    http_filters: list[dict[str, Any]] = []
    if grpc:
        http_filters.append(
            {
                "name": "envoy.filters.http.grpc_stats",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig",
                    "emit_filter_state": True,
                    "stats_for_all_methods": True,
                },
            }
        )
    http_filters.append(
        {
            "name": "envoy.filters.http.router",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
            },
        }
    )
    hcm: dict[str, Any] = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": stat_prefix,
        "codec_type": "AUTO",
        "use_remote_address": not grpc,
        "normalize_path": True,
        "merge_slashes": True,
        "path_with_escaped_slashes_action": "UNESCAPE_AND_REDIRECT",
        "stream_idle_timeout": "300s",
        "request_timeout": "0s",
        "common_http_protocol_options": {
            "idle_timeout": "3600s",
            "headers_with_underscores_action": "REJECT_REQUEST",
        },
        "access_log": [
            {
                "name": "envoy.access_loggers.stdout",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                    "log_format": {
                        "json_format": {
                            "start": "%START_TIME%",
                            "listener": stat_prefix,
                            "method": "%REQ(:METHOD)%",
                            # Never the query string: the WhatsApp verify handshake
                            # carries its token there (and any future ?key= would too).
                            "path": "%PATH(NQ:ORIG_OR_PATH)%",
                            "status": "%RESPONSE_CODE%",
                            "grpc_status": "%GRPC_STATUS%",
                            "flags": "%RESPONSE_FLAGS%",
                            "duration_ms": "%DURATION%",
                            "upstream": "%UPSTREAM_CLUSTER%",
                            "traceparent": "%REQ(TRACEPARENT)%",
                        }
                    },
                },
            }
        ],
        "route_config": {
            "name": stat_prefix,
            "virtual_hosts": [{"name": stat_prefix, "domains": ["*"], "routes": routes}],
        },
        "http_filters": http_filters,
    }
    if grpc:
        hcm["http2_protocol_options"] = {"max_concurrent_streams": 1000}
    return hcm


def _listener(name: str, address: str, port: int, hcm: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "address": _socket(address, port),
        "per_connection_buffer_limit_bytes": 1048576,
        "filter_chains": [
            {
                "filters": [
                    {"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}
                ]
            }
        ],
    }


def _console_routes(
    mesh: Mesh, variant: str, clusters: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`/console/` → the staff console (a web app; its live updates are long-lived SSE).

    Every variant: Kubernetes resolves `console-headless` (deploy/k8s/base/console), health
    checked on the same path as the pods' probes.
    """
    app = mesh.raw.get("web", {}).get("console")
    if not app:
        return []
    prefix = str(app["public_prefix"])
    clusters.append(
        _cluster(
            "console_http",
            variant,
            "console",
            int(app["http_port"]) + mesh.offset,
            grpc=False,
            health={"http_health_check": {"path": prefix + "healthz"}},
        )
    )
    return [
        {
            "name": "console",
            "match": {"prefix": prefix},
            "route": {"cluster": "console_http", "timeout": "0s", "idle_timeout": "600s"},
        },
        {
            "name": "console-root",
            "match": {"path": prefix.rstrip("/")},
            "redirect": {"path_redirect": prefix},
        },
    ]


def render(mesh: Mesh, variant: str) -> dict[str, Any]:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
    listen = _listen_address(variant)
    gateway = mesh.services["gateway"]
    webhooks = {
        "name": "webhooks",
        "match": {"prefix": "/webhooks/"},
        "route": {
            "cluster": "gateway_http",
            "timeout": "10s",
            "retry_policy": {"retry_on": "connect-failure,refused-stream", "num_retries": 2},
        },
    }
    public_routes: list[dict[str, Any]] = [
        {
            "name": "healthz",
            "match": {"path": "/healthz"},
            "direct_response": {"status": 200, "body": {"inline_string": "ok\n"}},
        },
        *(
            _with_canary(webhooks, "gateway", "gateway_canary_http")
            if variant == "local"
            else [webhooks]
        ),
    ]
    clusters: list[dict[str, Any]] = []
    # The simulator (chat page and its control API) is a development tool: only the local
    # variant, whose listeners bind loopback, routes to it. Compose and Kubernetes never do.
    if variant == "local" and "whatsapp" in mesh.simulators:
        prefix = mesh.simulators["whatsapp"].get("public_prefix", "/sim/")
        public_routes.append(
            {
                "name": "sim",
                "match": {"prefix": prefix},
                "route": {"cluster": "whatsapp_sim", "timeout": "0s", "idle_timeout": "600s"},
            }
        )
        public_routes.append(
            {
                "name": "sim-root",
                "match": {"path": prefix.rstrip("/")},
                "redirect": {"path_redirect": prefix},
            }
        )
        clusters.append(
            _cluster(
                "whatsapp_sim",
                variant,
                "whatsapp-sim",
                mesh.whatsapp_sim_port,
                grpc=False,
                health=None,
            )
        )
    public_routes.extend(_console_routes(mesh, variant, clusters))
    public_routes.append(
        {
            "name": "not-found",
            "match": {"prefix": "/"},
            "direct_response": {"status": 404, "body": {"inline_string": "not found\n"}},
        }
    )

    assert gateway.http_port is not None
    clusters.append(
        _cluster(
            "gateway_http",
            variant,
            "gateway",
            gateway.http_port,
            grpc=False,
            health={"http_health_check": {"path": "/healthz"}},
        )
    )
    for svc in mesh.services.values():
        clusters.append(
            _cluster(
                f"{svc.name}_grpc",
                variant,
                svc.name,
                svc.grpc_port,
                grpc=True,
                health={"grpc_health_check": {"service_name": svc.grpc_services[0]}},
            )
        )
    if variant == "local":
        # `hotelctl canary`'s second instance of each service: the same ports shifted by
        # `canary.rehearsal.port_shift`. Health-checked like the stable ones, so it gets
        # traffic only once it is SERVING, and only the share its runtime key gives it.
        shift = int(mesh.raw["canary"]["rehearsal"]["port_shift"])
        clusters.append(
            _cluster(
                "gateway_canary_http",
                variant,
                "gateway",
                gateway.http_port + shift,
                grpc=False,
                health={"http_health_check": {"path": "/healthz"}},
            )
        )
        for svc in mesh.services.values():
            clusters.append(
                _cluster(
                    f"{svc.name}_canary_grpc",
                    variant,
                    svc.name,
                    svc.grpc_port + shift,
                    grpc=True,
                    health={"grpc_health_check": {"service_name": svc.grpc_services[0]}},
                )
            )
    clusters.append(
        {
            "name": "envoy_admin",
            "type": "STATIC",
            "connect_timeout": "0.25s",
            "load_assignment": {
                "cluster_name": "envoy_admin",
                "endpoints": [
                    {
                        "lb_endpoints": [
                            {"endpoint": {"address": _socket("127.0.0.1", mesh.admin_port)}}
                        ]
                    }
                ],
            },
        }
    )
    stats_routes = [
        {
            "name": "prometheus",
            "match": {"path": "/stats/prometheus"},
            "route": {"cluster": "envoy_admin", "timeout": "5s"},
        },
        {
            "name": "ready",
            "match": {"path": "/ready"},
            "route": {"cluster": "envoy_admin", "timeout": "2s"},
        },
        {"name": "deny", "match": {"prefix": "/"}, "direct_response": {"status": 404}},
    ]
    bootstrap: dict[str, Any] = {
        "node": {"id": f"posada-envoy-{variant}", "cluster": "posada-envoy"},
        "admin": {"address": _socket("127.0.0.1", mesh.admin_port), "access_log": []},
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                        "max_active_downstream_connections": 10000,
                    },
                }
            ]
        },
        "static_resources": {
            "listeners": [
                _listener(
                    "public", listen, mesh.public_port, _hcm("public", public_routes, grpc=False)
                ),
                _listener(
                    "mesh",
                    listen,
                    mesh.mesh_port,
                    _hcm("mesh", _mesh_routes(mesh, variant), grpc=True),
                ),
                _listener(
                    "stats", listen, mesh.stats_port, _hcm("stats", stats_routes, grpc=False)
                ),
            ],
            "clusters": clusters,
        },
    }
    if variant == "local":
        # An admin layer, so /runtime_modify (loopback admin only) can move canary weights.
        bootstrap["layered_runtime"] = {
            "layers": [
                {"name": "static", "static_layer": {}},
                {"name": "admin", "admin_layer": {}},
            ]
        }
    return bootstrap


HEADER = (
    "# GENERATED by `hotelctl envoy render` from deploy/mesh.yaml ({variant} variant). Do not edit:\n"
    "# change deploy/mesh.yaml or tools/hotelctl/src/hotelctl/envoy_config.py and run `make envoy`.\n"
)


def render_text(mesh: Mesh, variant: str) -> str:
    return HEADER.format(variant=variant) + yaml.safe_dump(
        render(mesh, variant), sort_keys=False, width=120
    )


def write_all(out_dir: Path = OUT_DIR) -> list[Path]:
    mesh = load_mesh()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for variant in VARIANTS:
        path = out_dir / f"envoy.{variant}.yaml"
        path.write_text(render_text(mesh, variant))
        written.append(path)
    return written
