"""The source report and the monthly summary, checked against a month counted by hand."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from automations.clock import FrozenClock
from automations.notify.delivery import deliver
from automations.reports.frames import Month
from automations.reports.monthly import monthly_report, monthly_report_message, source_report
from sheets_schema.models import Activity
from tests.dashboard_fixtures import contacted, lead
from tests.notify_fixtures import mailbox  # noqa: F401

OCT = Month(2026, 10)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def october(demo_store):
    """Six October leads (New York time) and two just outside the month; Google Ads has $100 monthly spend."""
    sources = demo_store.read_rows("Sources")
    for row in sources:
        if row["source"] == "Google Ads":
            row["monthly_spend"] = "100"
    demo_store.replace_rows("Sources", sources)
    a, b, c = utc(2026, 10, 5, 14), utc(2026, 10, 6, 14), utc(2026, 10, 7, 14)
    d, e = utc(2026, 10, 8, 14), utc(2026, 10, 9, 14)
    for item in [
        lead("L-3001", a, "Sarah M.", "Website", **contacted(a, 3, status="Bound", quoted_at=a, bound_at=a,
                                                             premium=1000.0)),
        lead("L-3002", b, "Sarah M.", "Website", **contacted(b, 10, status="Quoted", quoted_at=b, premium=800.0)),
        lead("L-3003", c, "James K.", "Google Ads", **contacted(c, 40, status="Lost", quoted_at=c)),
        lead("L-3004", d, "James K.", "Google Ads"),
        lead("L-3005", e, "Rachel T.", "Walk-in / Phone", **contacted(e, 1, status="Bound", bound_at=e,
                                                                      premium=2000.0)),
        lead("L-3006", utc(2026, 10, 1, 3, 30), "Sarah M.", "Website"),  # Sep 30, 23:30 in New York
        lead("L-3007", utc(2026, 11, 1, 3, 30), "David L.", "Billboard"),  # Oct 31, 23:30 in New York
        lead("L-3008", utc(2026, 11, 2, 14), "David L.", "Website"),
    ]:
        demo_store.add_lead(item)
    demo_store.add_activity([
        Activity(time=d, lead_id="L-3004", event="reassigned", detail="to James K."),
        Activity(time=d, lead_id="L-3004", event="reassigned", detail="to David L."),
        Activity(time=d, lead_id="L-3004", event="manager alert", detail="untouched 60 min"),
        Activity(time=d, lead_id="L-3004", event="sms sent", detail="x"),
        Activity(time=utc(2026, 11, 2, 15), lead_id="L-3008", event="reassigned", detail="november"),
    ])
    return demo_store


def by_source(table):
    return {row["source"]: row for row in table.to_dict("records")}


def test_the_source_report_counts_each_source_as_the_guide_lists_it(october):
    rows = by_source(source_report(october.leads(), october.config(), OCT))
    web = rows["Website"]
    assert (web["leads"], web["contacted_5"], web["quoted"], web["bound"]) == (2, 1, 2, 1)
    assert (web["contacted_5_pct"], web["quoted_pct"], web["bound_pct"]) == (0.5, 1.0, 0.5)
    assert (web["premium"], web["cost"], web["cost_per_lead"], web["cost_per_bind"]) == (1000, 5, 2.5, 5)
    assert (web["avg_premium"], web["commission"]) == (1000, pytest.approx(120))
    assert web["roi"] == pytest.approx(23.0)
    ads = rows["Google Ads"]
    assert (ads["leads"], ads["quoted"], ads["bound"], ads["cost"], ads["cost_per_lead"]) == (2, 1, 0, 200, 100)
    assert ads["cost_per_bind"] is None and ads["avg_premium"] is None and ads["roi"] == pytest.approx(-1.0)


def test_a_source_with_zero_cost_has_no_roi_and_no_division_error(october):
    rows = by_source(source_report(october.leads(), october.config(), OCT))
    walk_in = rows["Walk-in / Phone"]
    assert (walk_in["cost"], walk_in["cost_per_lead"], walk_in["cost_per_bind"], walk_in["commission"]) == (
        0, 0, 0, pytest.approx(240))
    assert walk_in["roi"] is None
    unlisted = rows["Billboard"]  # on a lead, missing from the Sources tab
    assert (unlisted["leads"], unlisted["cost"], unlisted["roi"]) == (1, 0, None)
    idle = rows["Facebook Ads"]
    assert idle["leads"] == 0 and idle["contacted_5_pct"] is None and idle["cost_per_lead"] is None


def test_the_total_row_adds_up_cost_and_commission(october):
    total = by_source(source_report(october.leads(), october.config(), OCT))["Total"]
    assert (total["leads"], total["bound"], total["premium"], total["cost"]) == (6, 2, 3000, 205)
    assert total["cost_per_bind"] == pytest.approx(102.5)
    assert total["roi"] == pytest.approx((360 - 205) / 205)


def test_the_monthly_summary_matches_a_hand_count(october):
    report = monthly_report(october.leads(), october.activity(), october.config(), OCT)
    value = lambda key: report.figure(key).value  # noqa: E731
    assert value("total_leads") == 6
    assert value("avg_response") == pytest.approx(13.5)
    assert value("contacted_5_pct") == pytest.approx(2 / 6) and value("contacted_30_pct") == pytest.approx(0.5)
    assert value("never_contacted") == 2
    assert (value("reassignments"), value("escalations")) == (2, 1)
    assert value("lead_to_quote") == pytest.approx(4 / 6) and value("quote_to_bind") == pytest.approx(0.5)
    assert value("lead_to_bind") == pytest.approx(2 / 6) and value("premium") == 3000
    assert (value("total_cost"), value("cost_per_bind")) == (205, pytest.approx(102.5))
    assert dict(zip(report.by_source["source"], report.by_source["leads"])) == {
        "Website": 2, "Google Ads": 2, "Walk-in / Phone": 1, "Billboard": 1}
    assert dict(zip(report.by_line["line"], report.by_line["leads"])) == {"Personal": 6}


def test_each_target_from_the_guide_is_shown_beside_its_figure(october):
    report = monthly_report(october.leads(), october.activity(), october.config(), OCT)
    assert report.figure("avg_response").target.text == "<5 min" and report.figure("avg_response").met is False
    assert report.figure("quote_to_bind").target.text == ">25%" and report.figure("quote_to_bind").met is True
    assert report.figure("lead_to_bind").met is True and report.figure("never_contacted").met is False


def test_producers_are_ranked_by_close_rate_then_response_time(october):
    report = monthly_report(october.leads(), october.activity(), october.config(), OCT)
    ranking = report.producers.to_dict("records")
    assert [r["producer"] for r in ranking] == ["Rachel T.", "Sarah M.", "James K.", "David L."]
    assert [r["close_rate"] for r in ranking] == [1.0, 0.5, 0.0, 0.0]
    assert ranking[1]["avg_response"] == pytest.approx(6.5) and ranking[3]["avg_response"] is None


def test_an_empty_month_has_zeros_and_dashes_and_no_errors(october, runner):
    report = monthly_report(october.leads(), october.activity(), october.config(), Month(2025, 1))
    assert report.figure("total_leads").value == 0 and report.figure("avg_response").value is None
    assert report.figure("lead_to_bind").value is None and report.figure("cost_per_lead").value is None
    assert all(r["close_rate"] is None for r in report.producers.to_dict("records"))  # producers with no leads
    for kind in ("sources", "monthly"):
        for fmt in ("md", "csv"):
            result = runner.invoke(args=["report", kind, "--month", "2025-01", "--format", fmt])
            assert result.exit_code == 0, result.output
            assert "nan" not in result.output.lower() and "inf" not in result.output.lower()


def test_the_report_command_prints_markdown_with_targets(october, runner):
    result = runner.invoke(args=["report", "monthly", "--month", "2026-10"])
    assert result.exit_code == 0, result.output
    assert "Lead-to-bind ratio: **33%** (target: >18% - met)" in result.output
    assert "| 1 | Rachel T. |" in result.output


def test_the_sources_csv_reads_back_as_a_table(october, runner):
    result = runner.invoke(args=["report", "sources", "--month", "2026-10", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = {r["Source"]: r for r in csv.DictReader(io.StringIO(result.output))}
    assert rows["Website"]["Leads received"] == "2" and rows["Total"]["Cost"] == "205.0"
    assert rows["Walk-in / Phone"]["ROI"] == ""


def test_the_csvs_write_shares_as_percentages_beside_their_percent_targets(october, runner):
    result = runner.invoke(args=["report", "sources", "--month", "2026-10", "--format", "csv"])
    rows = {r["Source"]: r for r in csv.DictReader(io.StringIO(result.output))}
    assert (rows["Website"]["Contacted <5 min %"], rows["Website"]["ROI"]) == ("50%", "2300%")
    assert rows["Google Ads"]["ROI"] == "-100%" and rows["Total"]["Quoted %"] == "66.7%"
    assert rows["Total"]["Cost per bind"] == "102.5"  # money stays a plain number
    result = runner.invoke(args=["report", "monthly", "--month", "2026-10", "--format", "csv"])
    summary = {r["item"]: r for r in csv.DictReader(io.StringIO(result.output))}
    assert (summary["Lead-to-bind ratio"]["value"], summary["Lead-to-bind ratio"]["target"]) == ("33.3%", ">18%")
    assert summary["Avg first response time"]["value"] == "13.5" and summary["Total leads received"]["value"] == "6"


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice is not installed")
def test_a_spreadsheet_opening_the_csv_reads_the_percentages_as_numbers(october, runner, tmp_path):
    """As Excel and Google Sheets open a CSV: numbers, percentages and dates recognised."""
    result = runner.invoke(args=["report", "sources", "--month", "2026-10", "--format", "csv"])
    (tmp_path / "sources.csv").write_text(result.output, encoding="utf-8")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    profile = Path(tempfile.gettempdir()) / f"leadrouter-lo-profile-{os.getuid()}"
    subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                    "--infilter=CSV:44,34,76,1,,1033,false,true", "--convert-to", "xlsx", "--outdir",
                    str(tmp_path / "opened"), str(tmp_path / "sources.csv")],
                   check=True, capture_output=True, timeout=120)
    sheet = load_workbook(tmp_path / "opened" / "sources.xlsx").active
    header = [c.value for c in sheet[1]]
    website = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "Website")
    share, roi = website[header.index("Contacted <5 min %")], website[header.index("ROI")]
    assert (share.value, roi.value) == (0.5, 23) and "%" in share.number_format and "%" in roi.number_format


def test_the_xlsx_report_formats_shares_as_percent_and_money_as_dollars(october, runner, tmp_path):
    path = tmp_path / "report.xlsx"
    assert runner.invoke(args=["report", "monthly", "--month", "2026-10", "--format", "xlsx",
                               "--output", str(path)]).exit_code == 0
    book = load_workbook(path)
    summary = {row[1].value: row[2] for row in book["Summary"].iter_rows(min_row=2)}
    bind, premium = summary["Lead-to-bind ratio"], summary["Total premium written"]
    assert bind.value == pytest.approx(2 / 6) and bind.number_format == "0%"
    assert premium.value == 3000 and premium.number_format == '"$"#,##0.00'
    assert summary["Avg first response time"].number_format == "0.0"
    assert summary["Total leads received"].number_format == "General"
    sources = book["Sources"]
    header = {c.value: c.column for c in sources[1]}
    website = next(r for r in sources.iter_rows(min_row=2) if r[0].value == "Website")
    assert website[header["Bound %"] - 1].value == 0.5 and website[header["Bound %"] - 1].number_format == "0%"
    assert website[header["Cost per lead"] - 1].number_format == '"$"#,##0.00'
    assert website[header["Leads received"] - 1].number_format == "General"
    producers = book["Producers"]
    header = {c.value: c.column for c in producers[1]}
    assert producers.cell(2, header["Close rate"]).number_format == "0%"


def test_one_formatter_reads_a_figure_the_same_on_the_dashboard_and_in_the_reports():
    from automations.reports import dashboard as dashboard_figures
    from automations.reports import formats as report_formats
    assert dashboard_figures.show is report_formats.show
    show = report_formats.show
    assert show(2.25, "minutes") == "2.3 min" and show(22.0, "minutes") == "22 min"  # as the sheet's ROUND()
    assert show(5, "minutes") == "5 min" and show(0.4444, "pct") == "44%"
    assert show(1000, "money") == "$1,000.00" and show(2700.0, "money0") == "$2,700"
    assert show(None, "pct") == show(float("nan"), "minutes") == "--"


def test_an_xlsx_report_is_written_only_where_output_says(october, runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused = runner.invoke(args=["report", "monthly", "--month", "2026-10", "--format", "xlsx"])
    assert refused.exit_code != 0 and "--output report-2026-10.xlsx" in refused.output
    assert not list(tmp_path.glob("report*"))
    result = runner.invoke(args=["report", "monthly", "--month", "2026-10", "--format", "xlsx",
                                 "--output", "report-2026-10.xlsx"])
    assert result.exit_code == 0, result.output
    book = load_workbook(tmp_path / "report-2026-10.xlsx")
    assert {"Summary", "Sources", "Producers", "By line"} <= set(book.sheetnames)
    summary = {row[1]: row[2] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Total leads received"] == 6


def test_a_bad_month_is_refused_with_a_clear_message(runner):
    result = runner.invoke(args=["report", "sources", "--month", "October"])
    assert result.exit_code == 2 and "YYYY-MM" in result.output


def test_the_current_month_is_the_default(october, runner, clock):
    clock.set(utc(2026, 10, 20, 12))
    result = runner.invoke(args=["report", "sources", "--format", "csv"])
    assert rows_total(result.output) == 6


def rows_total(text: str) -> int:
    return int({r["Source"]: r for r in csv.DictReader(io.StringIO(text))}["Total"]["Leads received"])


def test_the_monthly_email_goes_once_to_the_manager(october, notifier):
    message = monthly_report_message(october, october.config(), "2026-10")
    assert message.channel == "email" and message.to == "morgan@demo-agency.example"
    assert "2026-10" in message.subject and "Lead-to-bind ratio" in message.body
    clock = FrozenClock(utc(2026, 11, 1, 13))
    assert deliver(message, october, notifier, clock).sent
    assert not deliver(monthly_report_message(october, october.config(), "2026-10"), october, notifier, clock).sent


def test_no_manager_email_means_no_monthly_message(october):
    october.replace_rows("Producers", [r for r in october.read_rows("Producers") if r["role"] != "Manager"])
    assert monthly_report_message(october, october.config(), "2026-10") is None


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from automations.config import AgencyConfig  # noqa: E402
from automations.reports.dashboard import dashboard_view  # noqa: E402
from automations.reports.formats import monthly_csv, monthly_markdown, sources_markdown  # noqa: E402
from sheets_schema.demo import demo_rows  # noqa: E402

DEMO = AgencyConfig.from_rows(demo_rows())
AT = utc(2026, 10, 15, 15)

a_lead = st.builds(
    lambda i, minutes, status, contact, premium, source, owner: lead(
        f"L-{i}", AT - timedelta(minutes=minutes), owner, source, status=status,
        premium=premium, **({} if contact is None else {"first_contact_at": AT, "response_minutes": contact})),
    st.integers(1, 10**6), st.integers(0, 60 * 24 * 40), st.sampled_from(["New", "Contacted", "Quoted", "Bound", "Lost"]),
    st.one_of(st.none(), st.floats(0, 10_000)), st.one_of(st.none(), st.floats(0, 50_000)),
    st.sampled_from(["Website", "Walk-in / Phone", "", "Billboard", "=cmd|' /C calc'!A0"]),
    st.sampled_from(["Sarah M.", "", "Nobody"]))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(a_lead, max_size=12, unique_by=lambda l: l.lead_id))
def test_no_mix_of_leads_makes_a_report_divide_by_zero_or_show_nan(leads):
    report = monthly_report(leads, [], DEMO, OCT)
    csv_text = monthly_csv(report)
    text = monthly_markdown(report) + sources_markdown(report.sources, OCT) + csv_text
    assert "nan" not in text.lower() and "inf" not in text.lower()
    assert ",=cmd" not in csv_text  # a spreadsheet opening the CSV never evaluates it
    view = dashboard_view(leads, [], DEMO, AT)
    assert all(v is None or v == v for v in view.figures.values())  # no NaN


def test_a_month_with_neither_leads_nor_spend_sends_no_report_but_spend_without_leads_does(october):
    assert monthly_report_message(october, october.config(), "2025-01") is not None  # Google Ads' $100 spend
    sources = october.read_rows("Sources")
    for row in sources:
        row["monthly_spend"] = "0"
    october.replace_rows("Sources", sources)
    assert monthly_report_message(october, october.config(), "2025-01") is None


def test_the_monthly_email_reaches_the_manager_with_real_tables_and_escaped_text(october, mailbox):
    from automations.notify.channels.smtp import SmtpChannel
    october.add_lead(lead("L-3009", utc(2026, 10, 20, 14), "Sarah M.", "<script>alert(1)</script>"))
    message = monthly_report_message(october, october.config(), "2026-10")
    SmtpChannel.from_url(f"smtp://127.0.0.1:{mailbox.port}", "quotes@demo-agency.example").send(message)
    [mail] = mailbox.messages()
    assert mail["To"] == "morgan@demo-agency.example"
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    assert "Total leads received: **7**" in text
    assert "<li>Total leads received: 7</li>" in html and "<td>Sarah M.</td>" in html
    assert html.count("<table") == 5  # by source, by line, per producer, source ROI, ranking
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_reassignments_and_manager_alerts_count_what_the_speed_clock_really_did(demo_store, clock, notifier):
    """Counted from the rows the ladder writes, not from hand-made ones. A lead left untouched is
    reassigned at 30 minutes and again at 60 (its second owner's 30), when the manager is alerted
    too; a second lead passed by its owner (PASS) is no slow response."""
    from automations.reports.dashboard import dashboard_view
    from automations.speed_clock.reassign import reassign
    from tests.conftest import T0
    from tests.speed_fixtures import minutes, post_lead, walk
    post_lead(demo_store, clock, notifier)
    passed = post_lead(demo_store, clock, notifier, phone="2015550177", email="pat@example.com")
    assert reassign(demo_store, passed, demo_store.config(), clock.now(), "PASS") is not None
    demo_store.update_lead(passed.lead_id, {"status": "Contacted"})

    def counts(at: int) -> tuple[tuple[int, int], tuple[int, int]]:
        walk(demo_store, notifier, clock, minutes(T0, at, at))
        leads, activity, config = demo_store.leads(), demo_store.activity(), demo_store.config()
        report = monthly_report(leads, activity, config, Month(2026, 11))
        view = dashboard_view(leads, activity, config, T0 + timedelta(minutes=at))
        return ((report.figure("reassignments").value, report.figure("escalations").value),
                (view.figures["reassigned_today"], view.figures["manager_alerts_today"]))

    walk(demo_store, notifier, clock, minutes(T0, 1, 29))
    assert counts(30) == ((1, 0), (1, 0))
    walk(demo_store, notifier, clock, minutes(T0, 31, 59))
    assert counts(60) == ((2, 1), (2, 1))
