"""Questions and answers as people write them: labels by their words, dates without invention."""
from __future__ import annotations

import pytest

from automations.intake.meaning import clean_value, field_of_label, read_date


@pytest.mark.parametrize("text, expected", [
    ("2025-06-19", "2025-06-19"), ("6/19/2025", "2025-06-19"), ("06-19-25", "2025-06-19"),
    ("June 19, 2025", "2025-06-19"), ("Jun 19 2025", "2025-06-19"), ("19 June 2025", "2025-06-19"),
    ("1750291200", "2025-06-19"), ("2025-06-19T10:00:00Z", "2025-06-19"),
    ("in the next 30 days", None), ("ASAP", None), ("2/30/2025", None), ("13/01/2025", None), ("", None),
])
def test_dates_people_write_become_y_m_d_and_buckets_never_become_dates(text, expected):
    assert read_date(text) == expected


@pytest.mark.parametrize("label, field", [
    ("Who is your current auto insurer?", "current_carrier"),
    ("When does your policy renew?", "policy_expiration"),
    ("What do you need covered?", "insurance_type"),
    ("How did you hear about us?", "how_heard"),
    ("what_is_your_zip_code?", "zip"),
    ("Best phone number to reach you", "phone"),
    ("I agree to be contacted by phone and text", "consent"),
    ("Name of your business", None),
    ("Favourite colour?", None),
])
def test_questions_are_recognised_by_their_words(label, field):
    assert field_of_label(label) == field


def test_placeholder_words_for_a_blank_are_blank_and_html_escapes_are_undone():
    assert clean_value("N/A") == "" and clean_value("None") == "" and clean_value("none of these") == "none of these"
    assert clean_value("O&#039;Neill") == "O'Neill"
