from __future__ import annotations

import json

import pytest
from opentelemetry import trace
from posada_common.logging import (
    bind_context,
    configure_logging,
    get_logger,
    redact_text,
    unbind_context,
)
from posada_common.tracing import configure_tracing


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("write to maria.lopez@gmail.com please", "maria.lopez"),
        ("mi numero es +34 612 345 678", "612 345"),
        ("wa_id 5491122334455 wrote", "54911223344"),
        ("call (011) 4567-8901", "4567-89"),
    ],
)
def test_personal_data_is_redacted(text: str, hidden: str) -> None:
    assert hidden not in redact_text(text)


def test_booking_reference_and_dates_are_not_mistaken_for_phones() -> None:
    text = "booking HB-4821 from 2026-03-10, 2 adults"
    assert redact_text(text) == text


def test_log_lines_are_json_with_trace_and_conversation_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_tracing("test", "0")
    configure_logging("test-service")
    log = get_logger("t")
    bind_context(conversation_id="wa:123:abc")
    with trace.get_tracer("t").start_as_current_span("work") as span:
        log.info("guest_wrote", text="soy ana@example.com", token="abc")
        trace_id = format(span.get_span_context().trace_id, "032x")
    unbind_context("conversation_id")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["event"] == "guest_wrote"
    assert record["trace_id"] == trace_id
    assert record["conversation_id"] == "wa:123:abc"
    assert "ana@" not in record["text"]
    assert record["token"] == "***"
    assert record["service"] == "test-service"
