"""The Dashboard tab's formulas, evaluated by LibreOffice, agree with the pandas figures.

Install the engine with: apt-get install -y libreoffice-calc-nogui
"""
from __future__ import annotations

import shutil
import zipfile
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook

from automations.reports.dashboard import dashboard_view
from sheets_schema.dashboard import FIGURES, PRODUCER_COLUMNS, SOURCE_FIRST_ROW, TIME_ZONE_NOTE, producer_rows
from sheets_schema.workbook import export_workbook
from sheets_schema.sql_store import SqlStore
from tests.conftest import load_demo
from tests.dashboard_fixtures import add_fixture_day, noon_zone, recalculate, set_time_zone

needs_libreoffice = pytest.mark.skipif(
    not (shutil.which("soffice") or shutil.which("libreoffice")),
    reason="LibreOffice is not installed (apt-get install -y libreoffice-calc-nogui)")


def _blank(value):
    return None if value in ("", None) else value


def _close(a, b) -> bool:
    a, b = _blank(a), _blank(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) < 1e-6


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """The fixture day exported to xlsx and recalculated by LibreOffice at the real time (once per module)."""
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        pytest.skip("LibreOffice is not installed (apt-get install -y libreoffice-calc-nogui)")
    tmp_path = tmp_path_factory.mktemp("sheet")
    now = datetime.now(timezone.utc)
    zone = noon_zone(now)
    paths, views = [], []
    for name, fill in (("agency", True), ("empty", False)):
        demo_store = SqlStore(f"sqlite:///{tmp_path / name}.db")
        load_demo(demo_store)
        set_time_zone(demo_store, zone)
        if fill:
            add_fixture_day(demo_store, now)
        paths.append(tmp_path / f"{name}.xlsx")
        export_workbook(demo_store, paths[-1])
        views.append(dashboard_view(demo_store.leads(), demo_store.activity(), demo_store.config(), now))
        demo_store.close()
    full, empty = (load_workbook(p, data_only=True) for p in recalculate(paths, zone, tmp_path))
    return full, views[0], empty


@needs_libreoffice
def test_every_dashboard_figure_on_the_sheet_equals_the_pandas_figure(recalculated):
    book, view, _ = recalculated
    sheet = book["Dashboard"]
    for name, a1 in FIGURES.items():
        assert _close(sheet[a1].value, view.figures[name]), (name, sheet[a1].value, view.figures[name])
    assert view.figures["today_leads"] == 9 and view.figures["today_contacted"] == 4
    assert view.figures["today_avg_response"] == pytest.approx(7.75)
    assert view.figures["leads_untouched"] == 4 and view.figures["producers_untouched"] == 3
    assert view.figures["producers_slow"] == 1 and view.figures["pipeline_quoted"] == 1
    assert view.figures["reassigned_today"] == 1 and view.figures["manager_alerts_today"] == 1
    assert view.figures["month_other_sources"] >= 1  # "Billboard" is not in the Sources tab


@needs_libreoffice
def test_the_per_producer_table_and_alerts_on_the_sheet_equal_the_pandas_table(recalculated):
    book, view, _ = recalculated
    sheet = book["Dashboard"]
    rows = list(producer_rows())
    for row, producer in zip(rows, view.producers):
        for col, key in enumerate(PRODUCER_COLUMNS, start=1):
            assert _close(sheet.cell(row, col).value, producer[key]), (producer["name"], key,
                                                                      sheet.cell(row, col).value, producer[key])
    assert all(_blank(sheet.cell(r, 1).value) is None for r in rows[len(view.producers):])
    james = next(p for p in view.producers if p["name"] == "James K.")
    assert james["slow_alert"] == "James K. response time above target (22 min)"
    assert james["untouched_alert"] == "James K. has 1 lead untouched (15 min+)"
    morgan = next(p for p in view.producers if p["name"] == "Morgan P.")
    assert morgan["leads"] == 0 and morgan["avg_minutes"] is None and morgan["close_rate"] is None


@needs_libreoffice
def test_leads_by_source_on_the_sheet_equal_the_pandas_counts(recalculated):
    book, view, _ = recalculated
    sheet = book["Dashboard"]
    for i, source in enumerate(view.sources):
        assert sheet.cell(SOURCE_FIRST_ROW + i, 1).value == source["source"]
        assert _close(sheet.cell(SOURCE_FIRST_ROW + i, 2).value, source["leads"])


@needs_libreoffice
def test_an_empty_store_shows_zeros_and_dashes_never_errors(recalculated):
    sheet = recalculated[2]["Dashboard"]
    values = [c.value for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [v for v in values if isinstance(v, str) and v.startswith("#")]
    assert sheet[FIGURES["today_leads"]].value == 0
    assert _blank(sheet[FIGURES["today_contacted_pct"]].value) is None
    assert _blank(sheet[FIGURES["today_avg_response"]].value) is None


@needs_libreoffice
def test_the_dashboard_says_which_time_zone_its_figures_assume(recalculated):
    """A laptop in another zone would evaluate TODAY() in its own: the tab names the agency's zone."""
    book = recalculated[0]
    zone = next(value for setting, value in book["Settings"].iter_rows(min_row=2, max_col=2, values_only=True)
                if setting == "Time Zone")
    note = book["Dashboard"][TIME_ZONE_NOTE].value
    assert zone.startswith("Etc/GMT") and f"in the time zone {zone} (Settings: Time Zone)" in note


def test_the_export_carries_both_charts(demo_store, tmp_path):
    path = tmp_path / "agency.xlsx"
    export_workbook(demo_store, path)
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2


def test_formulas_follow_the_live_column_order_not_fixed_letters():
    from sheets_schema.dashboard import dashboard_cells, grid_range
    from sheets_schema.tabs import LEADS
    moved = ["Status"] + [h for h in LEADS.headers if h != "Status"]
    default = dict(dashboard_cells())[FIGURES["pipeline_quoted"]]
    live = dict(dashboard_cells({"Leads": moved}))[FIGURES["pipeline_quoted"]]
    assert default == '=COUNTIFS(Leads!$T:$T,"Quoted")' and live == '=COUNTIFS(Leads!$A:$A,"Quoted")'
    with pytest.raises(ValueError, match="Premium"):
        dashboard_cells({"Leads": [h for h in LEADS.headers if h != "Premium"]})
    assert grid_range("A42:B54") == {"startRowIndex": 41, "endRowIndex": 54, "startColumnIndex": 0,
                                     "endColumnIndex": 2}
