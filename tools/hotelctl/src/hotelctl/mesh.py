"""The mesh description (`deploy/mesh.yaml`) as typed objects, with a port offset.

A port offset shifts every port at once, so a second copy of the mesh (the e2e tests, a
benchmark) can run beside a developer's `make run` without touching its ports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[4]
MESH_FILE = REPO_ROOT / "deploy" / "mesh.yaml"


def _seconds(text: str | int | float) -> float:
    if isinstance(text, int | float):
        return float(text)
    text = text.strip()
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    if text.endswith("s"):
        return float(text[:-1])
    return float(text)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    package: str
    grpc_services: list[str]
    grpc_port: int
    metrics_port: int
    timeout_seconds: float
    idempotent: list[str]
    http_port: int | None = None
    max_request_bytes: int | None = None
    retry_on: str = "unavailable,connect-failure,refused-stream,reset"

    @property
    def module(self) -> str:
        return f"posada_{self.name}"

    def idempotent_paths(self) -> list[str]:
        out = []
        for method in self.idempotent:
            for svc in self.grpc_services:
                out.append(f"/{svc}/{method}")
        return out


@dataclass(frozen=True)
class Mesh:
    public_port: int
    mesh_port: int
    admin_port: int
    stats_port: int
    service_header: str
    services: dict[str, ServiceSpec]
    simulators: dict[str, dict[str, Any]]
    redis_port: int
    postgres_port: int
    offset: int = 0
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def whatsapp_sim_port(self) -> int:
        return int(self.simulators["whatsapp"]["http_port"])

    @property
    def qloapps_port(self) -> int:
        return int(self.simulators["qloapps"]["http_port"])

    def with_offset(self, offset: int) -> Mesh:
        if offset == 0:
            return self
        services = {
            name: ServiceSpec(
                name=s.name,
                package=s.package,
                grpc_services=s.grpc_services,
                grpc_port=s.grpc_port + offset,
                metrics_port=s.metrics_port + offset,
                timeout_seconds=s.timeout_seconds,
                idempotent=s.idempotent,
                http_port=s.http_port + offset if s.http_port else None,
                max_request_bytes=s.max_request_bytes,
                retry_on=s.retry_on,
            )
            for name, s in self.services.items()
        }
        sims = {
            k: {**v, "http_port": int(v["http_port"]) + offset} for k, v in self.simulators.items()
        }
        return Mesh(
            public_port=self.public_port + offset,
            mesh_port=self.mesh_port + offset,
            admin_port=self.admin_port + offset,
            stats_port=self.stats_port + offset,
            service_header=self.service_header,
            services=services,
            simulators=sims,
            redis_port=self.redis_port + offset,
            postgres_port=self.postgres_port + offset,
            offset=offset,
            raw=self.raw,
        )


def load_mesh(path: Path = MESH_FILE, offset: int = 0) -> Mesh:
    raw = yaml.safe_load(path.read_text())
    services = {
        name: ServiceSpec(
            name=name,
            package=spec["package"],
            grpc_services=list(spec["grpc_services"]),
            grpc_port=int(spec["grpc_port"]),
            metrics_port=int(spec["metrics_port"]),
            timeout_seconds=_seconds(spec.get("timeout", "15s")),
            idempotent=list(spec.get("idempotent", [])),
            http_port=spec.get("http_port"),
            max_request_bytes=spec.get("max_request_bytes"),
            retry_on=spec.get(
                "retry_on",
                raw.get("default_retry_on", "unavailable,connect-failure,refused-stream,reset"),
            ),
        )
        for name, spec in raw["services"].items()
    }
    mesh = Mesh(
        public_port=int(raw["envoy"]["public_port"]),
        mesh_port=int(raw["envoy"]["mesh_port"]),
        admin_port=int(raw["envoy"]["admin_port"]),
        stats_port=int(raw["envoy"]["stats_port"]),
        service_header=raw["service_header"],
        services=services,
        simulators=raw.get("simulators", {}),
        redis_port=int(raw["infrastructure"]["redis_port"]),
        postgres_port=int(raw["infrastructure"]["postgres_port"]),
        raw=raw,
    )
    return mesh.with_offset(offset)
