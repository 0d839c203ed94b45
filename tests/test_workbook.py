"""`leadrouter export` / `import`: the whole workbook as xlsx, and back."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook

from automations.speed_clock.status import change_status
from sheets_schema.workbook import export_workbook, import_workbook
from tests.conftest import T0
from tests.dashboard_fixtures import add_fixture_day


@pytest.fixture
def exported(demo_store, tmp_path):
    add_fixture_day(demo_store, T0)
    path = tmp_path / "agency.xlsx"
    export_workbook(demo_store, path)
    return path


def test_every_tab_and_the_dashboard_are_exported(exported):
    book = load_workbook(exported)
    assert book.sheetnames[0] == "Dashboard"
    assert {"Producers", "Territories", "Weights", "Sources", "Lines", "Clients", "Templates", "Settings",
            "Form Fields", "Leads", "Activity"} <= set(book.sheetnames)
    assert book["Dashboard"]["B3"].value.startswith("=COUNTIFS(Leads!$B:$B")


def test_times_and_money_are_real_cells_in_the_agencys_time_zone(exported):
    leads = load_workbook(exported)["Leads"]
    headers = [c.value for c in leads[1]]
    row = {h: c for h, c in zip(headers, leads[2])}
    assert row["Received At"].value == datetime(2026, 11, 24, 7, 0)  # 12:00 UTC - 3 h, New York time
    assert row["Received At"].is_date and row["Received At"].number_format == "yyyy-mm-dd hh:mm"
    sources = load_workbook(exported)["Sources"]
    rate = {c.value: i for i, c in enumerate(sources[1])}["Commission Rate"]
    assert sources.cell(2, rate + 1).value == pytest.approx(0.12) and sources.cell(2, rate + 1).number_format == "0%"


def test_text_a_spreadsheet_would_evaluate_is_neutralized_but_phones_and_zips_stay_text(exported):
    leads = load_workbook(exported)["Leads"]
    headers = [c.value for c in leads[1]]
    rows = [dict(zip(headers, (c.value for c in r))) for r in leads.iter_rows(min_row=2)]
    evil = next(r for r in rows if r["Lead ID"] == "L-2009")
    assert evil["Notes"] == "'=HYPERLINK(\"http://evil.example\")"
    assert evil["Phone"] == "+12015550199" and evil["ZIP"] == "10050"
    assert all(not isinstance(c.value, str) or not c.value.startswith("=") for r in leads.iter_rows() for c in r)


def test_a_round_trip_into_an_empty_store_keeps_every_lead_and_config_row(exported, demo_store, fresh_store):
    summary = import_workbook(fresh_store, exported, T0, change_status)
    assert summary.leads_added == len(demo_store.leads()) and not summary.skipped
    assert [l.to_row() for l in fresh_store.leads()] == [l.to_row() for l in demo_store.leads()]
    assert fresh_store.get_lead("L-2009").notes == "=HYPERLINK(\"http://evil.example\")"
    assert fresh_store.config().producers == demo_store.config().producers
    assert fresh_store.config().sources == demo_store.config().sources
    assert fresh_store.config().settings.get("Holidays") == "2026-12-25, 2027-01-01"
    assert int(fresh_store.next_lead_id().split("-")[1]) > 2009  # imported ids are never handed out again


def _workbook(path, tabs: dict[str, list[list]]):
    book = Workbook()
    book.remove(book.active)
    for name, rows in tabs.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_tabs_left_out_stay_and_settings_left_out_keep_their_values(demo_store, tmp_path):
    before = demo_store.read_rows("Producers")
    path = _workbook(tmp_path / "settings.xlsx", {"Settings": [["Setting", "Value"], ["Agency Name", "New Name"],
                                                               ["Report Day", "1"]]})
    summary = import_workbook(demo_store, path, T0, change_status)
    settings = demo_store.config().settings
    assert summary.replaced == ["Settings"]
    assert settings.agency_name == "New Name" and settings.get("Report Day") == "1"
    assert settings.get("Business Hours") == "Mon-Fri 08:00-18:00" and settings.get("Time Zone") == "America/New_York"
    assert demo_store.read_rows("Producers") == before


def test_a_config_tab_present_replaces_the_stores_columns_found_by_header_text(demo_store, tmp_path):
    path = _workbook(tmp_path / "sources.xlsx", {"Sources": [
        ["Notes (ours)", "Cost Per Lead", "Source", "Type"], ["x", 40, "Yelp", "Paid"], [None, None, None, None]]})
    import_workbook(demo_store, path, T0, change_status)
    sources = demo_store.config().sources
    assert [(s.source, s.cost_per_lead, s.type) for s in sources] == [("Yelp", 40.0, "Paid")]


def test_leads_import_adds_new_ids_and_takes_status_and_premium_of_known_ones(demo_store, exported, tmp_path):
    book = load_workbook(exported)
    leads = book["Leads"]
    col = {c.value: c.column for c in leads[1]}
    for row in leads.iter_rows(min_row=2):
        if row[0].value == "L-2003":
            row[col["Status"] - 1].value = "Bound"
            row[col["Premium"] - 1].value = 1750
            row[col["Assigned To"] - 1].value = "Somebody Else"  # a service column: ignored for known leads
        if row[0].value == "L-2004":
            row[col["Status"] - 1].value = "Maybe"
    new = [None] * len(col)
    new[col["Lead ID"] - 1], new[col["Received At"] - 1], new[col["Status"] - 1] = "L-5000", datetime(2026, 11, 2, 9), "New"
    leads.append(new)
    book.save(tmp_path / "edited.xlsx")
    summary = import_workbook(demo_store, tmp_path / "edited.xlsx", T0 + timedelta(hours=1), change_status)
    lead = demo_store.get_lead("L-2003")
    assert (lead.status, lead.premium, lead.assigned_to) == ("Bound", 1750.0, "James K.")
    assert lead.bound_at == T0 + timedelta(hours=1)
    assert any(a.event == "status" and "xlsx import" in a.detail for a in demo_store.activity("L-2003"))
    assert demo_store.get_lead("L-2004").status == "New"
    assert any("L-2004" in s and "Maybe" in s for s in summary.skipped)
    added = demo_store.get_lead("L-5000")
    assert added is not None and added.received_at.utcoffset() == timedelta(0)
    assert added.received_at == datetime(2026, 11, 2, 14, tzinfo=added.received_at.tzinfo)  # 9:00 New York = 14:00 UTC
    assert summary.leads_added == 1 and summary.leads_updated == 1


def test_the_cli_exports_and_imports_and_refuses_a_file_that_is_not_a_workbook(runner, demo_store, tmp_path):
    path = tmp_path / "out.xlsx"
    result = runner.invoke(args=["export", str(path)])
    assert result.exit_code == 0 and path.exists(), result.output
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0 and "Replaced tabs: Producers" in result.output, result.output
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a workbook")
    before = demo_store.read_rows("Settings")
    result = runner.invoke(args=["import", str(junk)])
    assert result.exit_code == 1 and "not a readable .xlsx workbook" in result.output
    assert demo_store.read_rows("Settings") == before


def test_a_sheet_that_only_shares_a_tabs_name_does_not_wipe_the_tab(demo_store, tmp_path):
    before = demo_store.read_rows("Sources")
    path = _workbook(tmp_path / "other.xlsx", {"Sources": [["Vendor", "Amount"], ["Acme", 10]],
                                               "Leads": [["Name"], ["x"]]})
    summary = import_workbook(demo_store, path, T0, change_status)
    assert demo_store.read_rows("Sources") == before and summary.replaced == []
    assert any("Sources" in s and "'Source'" in s for s in summary.skipped)


def test_a_config_value_that_does_not_parse_survives_the_round_trip(demo_store, fresh_store, tmp_path):
    sources = demo_store.read_rows("Sources")
    sources[0]["cost_per_lead"] = "about $20"
    demo_store.replace_rows("Sources", sources)
    export_workbook(demo_store, tmp_path / "odd.xlsx")
    import_workbook(fresh_store, tmp_path / "odd.xlsx", T0, change_status)
    assert fresh_store.read_rows("Sources")[0]["cost_per_lead"] == "about $20"


def test_import_with_skipped_rows_runs_check_and_exits_non_zero(runner, demo_store, exported, tmp_path):
    book = load_workbook(exported)
    leads = book["Leads"]
    headers = [c.value for c in leads[1]]
    leads.append({headers.index("Lead ID") + 1: "L-3001", headers.index("Received At") + 1: "sometime"})
    settings = book["Settings"]
    settings.append(["Duplicate Window", "about a month-ish"])
    damaged = tmp_path / "damaged.xlsx"
    book.save(damaged)
    result = runner.invoke(args=["import", str(damaged)])
    assert result.exit_code == 1
    assert "Skipped: Leads row" in result.output
    assert "ERROR   Settings: Duplicate Window 'about a month-ish'" in result.output  # check ran after the import
    assert "1 row(s) or tab(s) skipped and 1 check error(s)" in result.output
