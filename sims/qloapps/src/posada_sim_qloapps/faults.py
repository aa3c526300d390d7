"""Run-time switchable fault injection for `/api` requests."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Faults:
    """What happens to matching `/api` requests.

    A request matches when its method is in ``methods`` (None = any) and its path starts with
    ``path_prefix``; it is then affected with probability ``error_rate`` while ``remaining`` is
    None (unlimited) or > 0. An affected request: waits ``latency_ms``; then, in this order,
    hangs ``timeout_s`` seconds and drops the connection if ``timeout``; drops the connection
    without running the request if ``drop_connection`` and not ``after_commit``; answers
    ``status`` (a QloApps-style error body) without running the request if ``status``; runs the
    request and then drops the connection instead of answering if ``drop_connection`` and
    ``after_commit`` (the "lost answer" case: the booking exists, the client saw a reset).
    """

    latency_ms: int = 0
    error_rate: float = 1.0
    status: int | None = None
    timeout: bool = False
    timeout_s: float = 30.0
    drop_connection: bool = False
    after_commit: bool = False
    count: int | None = None
    remaining: int | None = None
    methods: list[str] | None = None
    path_prefix: str = "/api"
    affected: int = 0  # how many requests were affected since the faults were set

    @property
    def active(self) -> bool:
        return bool(self.latency_ms or self.status or self.timeout or self.drop_connection)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Faults:
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        f = cls(**{k: v for k, v in data.items() if k != "affected"})
        if f.status is not None and not (400 <= int(f.status) <= 599):
            raise ValueError("status must be 4xx or 5xx")
        if not 0.0 <= float(f.error_rate) <= 1.0:
            raise ValueError("error_rate must be within 0..1")
        if f.methods is not None:
            f.methods = [m.upper() for m in f.methods]
        f.remaining = f.count
        return f

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def take(self, method: str, path: str) -> bool:
        """Decide whether this request is affected (and count it)."""
        if not self.active or not path.startswith(self.path_prefix):
            return False
        if self.methods is not None and method.upper() not in self.methods:
            return False
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.error_rate < 1.0 and random.random() >= self.error_rate:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        self.affected += 1
        return True
