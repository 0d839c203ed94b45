"""Cell values on a Google Sheet: times as serial numbers in the sheet's own time zone, text stays text."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from sheets_schema.gsheets.layout import Codec, Headers
from sheets_schema.models import Lead
from sheets_schema.tabs import LEADS

NEW_YORK = Codec("America/New_York")


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(timezone.utc)))
def test_a_time_written_to_the_sheet_reads_back_as_the_same_wall_clock_time(when):
    when = when.replace(microsecond=0)
    back = NEW_YORK.from_cell("datetime", NEW_YORK.to_cell("datetime", when))
    assert back.replace(tzinfo=None) == when.astimezone(NEW_YORK.tz).replace(tzinfo=None)
    assert abs(back - when) <= timedelta(hours=1)  # exact except in the repeated hour when clocks go back


def test_serials_are_what_sheets_uses():
    assert NEW_YORK.to_cell("date", date(1899, 12, 31)) == 1.0
    assert NEW_YORK.to_cell("datetime", datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)) == pytest.approx(46350 + 10 / 24)
    assert NEW_YORK.to_cell("money", "$1,200.50") == 1200.5 and NEW_YORK.to_cell("percent", "12%") == 0.12


def test_public_text_is_sent_as_text_and_blank_clears():
    assert NEW_YORK.to_cell("text", "=IMPORTXML(1)") == "=IMPORTXML(1)"
    assert NEW_YORK.cell_data("text", "02134") == {"userEnteredValue": {"stringValue": "02134"}}
    assert NEW_YORK.cell_data("money", None) == {}
    assert NEW_YORK.to_cell("money", "call me") == "call me"  # never lost, just not a number


def test_columns_are_found_by_header_text_whatever_the_case_spacing_and_order():
    headers = Headers.of(["Notes", "  lead   id ", "STATUS", "Spouse", "Received At"])
    positions = headers.positions(LEADS)
    assert positions["lead_id"] == 1 and positions["status"] == 2 and positions["received_at"] == 4
    assert "premium" not in positions
    row = NEW_YORK.cells_row(LEADS, positions, 5, {"lead_id": "L-1", "status": "New", "notes": "hi",
                                                   "received_at": datetime(2026, 11, 24, 15, tzinfo=timezone.utc)})
    assert [c.get("userEnteredValue", {}).get("stringValue") for c in row["values"][:3]] == ["hi", "L-1", "New"]
    assert row["values"][3] == {}  # a person's column gets nothing of ours
    assert "numberValue" in row["values"][4]["userEnteredValue"]  # times are serial numbers


def test_the_repeated_hour_keeps_the_time_we_wrote(store_gsheets):
    store = store_gsheets
    store.init()
    try:
        second_130 = datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)  # 01:30 EST, after 01:30 EDT
        store.add_lead(Lead(lead_id="L-7001", received_at=second_130, first_name="Night", status="New"))
        store.refresh()
        store.refresh()
        assert store.get_lead("L-7001").received_at == second_130
    finally:
        store.close()
