"""Who may call which RPC: the `authorization` section of deploy/mesh.yaml, as a lookup table.

The table is written in deploy/mesh.yaml (one description of the mesh) and compiled by
`make envoy` into `auth_policy.json` beside this module, so a service image carries it without
the deploy folder; `hotelctl envoy check` (CI) fails when the two disagree.

Default deny: an RPC that is not listed refuses every caller, so a new RPC cannot ship open by
accident. Health and reflection are listed as open services (probes and grpcurl need them and
they reveal no guest data).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

POLICY_FILE = Path(__file__).with_name("auth_policy.json")


@dataclass(frozen=True)
class RpcRule:
    """Callers allowed on one RPC, and whether a staff token must come with the call."""

    callers: frozenset[str]
    staff: bool = False


@dataclass(frozen=True)
class Policy:
    open_services: frozenset[str]
    staff_issuer: str
    rules: Mapping[str, RpcRule] = field(default_factory=dict)  # "/pkg.Service/Method" → rule

    def is_open(self, grpc_service: str) -> bool:
        return grpc_service in self.open_services

    def rule(self, full_method: str) -> RpcRule | None:
        return self.rules.get(full_method)

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "open_services": sorted(self.open_services),
                    "staff_issuer": self.staff_issuer,
                    "rules": {
                        path: {"callers": sorted(rule.callers), "staff": rule.staff}
                        for path, rule in sorted(self.rules.items())
                    },
                },
                indent=2,
            )
            + "\n"
        )


def policy_from_mesh(raw: Mapping[str, Any], known_callers: Iterable[str] | None = None) -> Policy:
    """Compile mesh.yaml's `authorization` section (raw YAML mapping) into a `Policy`.

    Raises ValueError for a caller not in `callers`, a service not in `services`, or an RPC
    listed as staff but missing from `allow`, so a typo fails `make envoy` instead of silently
    locking someone out.
    """
    section = raw.get("authorization")
    if not isinstance(section, Mapping):
        raise ValueError("deploy/mesh.yaml has no `authorization` section")
    callers = set(section.get("callers", []))
    if known_callers is not None:
        unknown = callers - set(known_callers)
        if unknown:
            raise ValueError(f"authorization.callers names unknown callers: {sorted(unknown)}")
    staff_issuer = str(section.get("staff_issuer", ""))
    if staff_issuer and staff_issuer not in callers:
        raise ValueError(f"authorization.staff_issuer {staff_issuer!r} is not a caller")
    services = raw.get("services", {})
    rules: dict[str, RpcRule] = {}
    for service, spec in (section.get("rpcs") or {}).items():
        if service not in services:
            raise ValueError(f"authorization.rpcs.{service}: no such service in `services`")
        allow = spec.get("allow") or {}
        staff = set(spec.get("staff") or [])
        missing = staff - set(allow)
        if missing:
            raise ValueError(f"authorization.rpcs.{service}.staff not in allow: {sorted(missing)}")
        for method, who in allow.items():
            who = set(who or [])
            bad = who - callers
            if bad:
                raise ValueError(
                    f"authorization.rpcs.{service}.allow.{method}: unknown callers {sorted(bad)}"
                )
            for grpc_service in services[service]["grpc_services"]:
                rules[f"/{grpc_service}/{method}"] = RpcRule(frozenset(who), method in staff)
    return Policy(frozenset(section.get("open_services", [])), staff_issuer, rules)


def policy_from_json(text: str) -> Policy:
    data = json.loads(text)
    return Policy(
        frozenset(data["open_services"]),
        data.get("staff_issuer", ""),
        {
            path: RpcRule(frozenset(rule["callers"]), bool(rule.get("staff")))
            for path, rule in data["rules"].items()
        },
    )


@lru_cache(maxsize=1)
def load_policy() -> Policy:
    """The policy compiled into this package (see module docstring)."""
    return policy_from_json(POLICY_FILE.read_text())
