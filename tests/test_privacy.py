"""No personal data in logs: phone numbers and emails are masked wherever they are logged."""
from __future__ import annotations

import logging

from app import RedactingFilter
from automations.contact import mask_email, mask_phone, redact
from tests.conftest import lead_payload


def test_posting_a_lead_logs_no_phone_number_or_email(client, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/leads", json=lead_payload())
    text = caplog.text
    assert "Sarah M." in text  # the console notifier did log the texts
    for secret in ("555-0142", "5550142", "maria.lopez@example.com", "2015550111", "sarah@demo-agency.example"):
        assert secret not in text


def test_masks_keep_only_what_identifies_the_record():
    assert mask_phone("+12015550142") == "***-***-0142"
    assert mask_email("maria.lopez@example.com") == "m***@example.com"
    assert redact("call +1 (201) 555-0142 or mail maria@example.com") == "call ***-***-0142 or mail m***@example.com"


def test_the_log_filter_masks_what_any_library_logs():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("jo@example.com",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "to j***@example.com"


def test_the_log_filter_masks_tokens_in_request_lines():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"GET /dashboard?token=%s HTTP/1.1" 200',
                               ("s3cr3t-value",), None)
    RedactingFilter().filter(record)
    assert "s3cr3t" not in record.getMessage() and "token=***" in record.getMessage()


def test_dates_in_log_lines_stay_legible_while_a_phone_beside_them_is_masked():
    assert redact("tick at 2026-11-24 15:00:00+00:00 done") == "tick at 2026-11-24 15:00:00+00:00 done"
    assert redact("due 2026-11-24T15:00 for 2015550142") == "due 2026-11-24T15:00 for ***-***-0142"
    assert redact("2026-11-24 201-555-0142") == "2026-11-24 ***-***-0142"
