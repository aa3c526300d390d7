"""structlog JSON logs with trace and conversation ids, and guest personal data redacted.

Every log line passes through `redact_personal_data`, which masks phone numbers and e-mail
addresses in any string value. Guests' identifiers are personal data; logs travel to places
(aggregators, tickets, screenshots) where they must not appear. Secrets are never logged
because settings hold them as `SecretStr`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

EMAIL_RE = re.compile(r"(?<![\w.+-])([\w.+-]{1,64})@([\w-]+(?:\.[\w-]+)+)")
# Seven or more digits, optionally with +, spaces, dots, dashes or parentheses between them.
PHONE_RE = re.compile(r"(?<![\w])\+?\d(?:[\s().-]?\d){6,}(?![\w])")
ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
SENSITIVE_KEYS = {"password", "token", "secret", "authorization", "api_key", "access_token"}


def redact_text(text: str) -> str:
    """Mask e-mails (keep the domain) and phone numbers (keep the last two digits)."""
    text = EMAIL_RE.sub(lambda m: f"***@{m.group(2)}", text)

    def _phone(m: re.Match[str]) -> str:
        if ISO_DATE_RE.fullmatch(m.group(0)):
            return m.group(0)
        digits = re.sub(r"\D", "", m.group(0))
        return "***" + digits[-2:]

    return PHONE_RE.sub(_phone, text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: ("***" if str(k).lower() in SENSITIVE_KEYS else _redact(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_personal_data(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = "***"
        elif key not in {"trace_id", "span_id", "timestamp", "level", "logger", "service"}:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


def add_trace_ids(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    span = trace.get_current_span()
    ctx = span.get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


class _StderrLogger:
    """Writes each rendered line to the *current* sys.stderr (test runners swap it)."""

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger_factory(*_args: Any) -> _StderrLogger:
    return _StderrLogger()


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and stdlib logging to stderr as one JSON object per line."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_stderr_logger_factory,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


def bind_context(**values: Any) -> None:
    """Attach values (conversation_id, message_id...) to every log line of this task."""
    structlog.contextvars.bind_contextvars(**values)


def unbind_context(*keys: str) -> None:
    structlog.contextvars.unbind_contextvars(*keys)
