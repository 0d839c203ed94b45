"""The Dashboard tab, defined once as data: labelled cells, formulas, number formats, charts.

The same definition is written by the xlsx export (sheets_schema.workbook) and by the
Google Sheets `init`, so the sheet stays live without the service: every figure is a
formula over the Leads, Activity, Producers and Sources tabs that Google Sheets, Excel and
LibreOffice all evaluate (COUNTIFS, SUMIFS, AVERAGEIFS, IFERROR, TODAY, NOW, WEEKDAY, DATE).

Columns are found by header text in a live sheet, so formulas are generated from a header
order (the live one, or sheets_schema.tabs by default), never from hand-typed letters.
For the Google Sheets backend: write `dashboard_cells(live_headers)` with USER_ENTERED (these
are our own formulas, never public text), apply `number_formats()`, and add one chart per
`chart_specs()` entry (`grid_range()` turns its A1 ranges into GridRange fields). The formulas
compare timestamps with TODAY()/NOW(), so Leads/Activity times must be date serials in local
time and the spreadsheet's time zone must be the Settings Time Zone. Excel and LibreOffice take
TODAY()/NOW() from the computer's clock, so the tab says which zone its figures assume
(the TIME_ZONE_NOTE cell, a formula over the Settings tab).

The figures mean exactly what automations.reports.dashboard computes with pandas:
- "today" is the spreadsheet's TODAY() (the agency's time zone; the export writes local times);
- contacted = First Contact At present;
- average response = mean Response Minutes of today's contacted leads;
- close % = Bound / leads assigned in the trailing 90 days (Assigned At >= TODAY()-90);
- untouched = Status New, no First Contact At, assigned 15+ minutes ago (wall clock);
- follow-up due today = Next Follow-up before tomorrow (overdue included), Status not Bound/Lost;
- binds this week = Status Bound with Bound At since Monday; their premium is the sum of Premium.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

from automations.config import DEFAULT_SETTINGS
from automations.events import MANAGER_ALERT, REASSIGNED

from .tabs import ACTIVITY, LEADS, PRODUCERS, SETTINGS, SOURCES, TABS

TAB_NAME = "Dashboard"
RESPONSE_TARGET_MINUTES = 5
UNTOUCHED_MINUTES = 15
CLOSE_RATE_DAYS = 90
PRODUCER_SLOTS = 20  # rows of the Producers tab shown (the sheet cannot grow a table by itself)
SOURCE_SLOTS = 12

PERCENT = "0%"
MINUTES = "0.0"
MONEY = '"$"#,##0'
DATETIME = "yyyy-mm-dd hh:mm"

Style = Literal["title", "section", "header", "label", "figure", "alert", "note"]


@dataclass(frozen=True)
class Cell:
    a1: str
    value: Any  # label text, a number, or a formula starting with "="
    number_format: str | None = None
    style: Style = "label"


@dataclass(frozen=True)
class ChartSpec:
    """A bar chart over a block of Dashboard cells (A1 ranges on the Dashboard tab)."""
    key: str
    title: str
    categories: str  # e.g. "A42:A54"
    values: str  # e.g. "B42:B54"
    series_title: str
    anchor: str  # top-left cell of the chart
    y_title: str = ""
    kind: Literal["bar", "column"] = "column"


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def grid_range(a1: str) -> dict[str, int]:
    """'A42:A54' -> the zero-based, end-exclusive GridRange fields the Sheets API's addChart takes."""
    def split(ref: str) -> tuple[int, int]:
        letters = "".join(ch for ch in ref if ch.isalpha()).upper()
        col = 0
        for ch in letters:
            col = col * 26 + ord(ch) - 64
        return int(ref[len(letters):]), col
    start, _, end = a1.replace("$", "").partition(":")
    (r1, c1), (r2, c2) = split(start), split(end or start)
    return {"startRowIndex": r1 - 1, "endRowIndex": r2, "startColumnIndex": c1 - 1, "endColumnIndex": c2}


def _sheet(tab: str) -> str:
    return f"'{tab}'" if not tab.replace("_", "").isalnum() else tab


class Refs:
    """Whole-column and single-cell references, resolved from a tab's header order."""

    def __init__(self, headers: Mapping[str, Sequence[str]] | None = None) -> None:
        self.headers = {name: list(tab.headers) for name, tab in TABS.items()}
        for name, live in (headers or {}).items():
            self.headers[name] = [str(h).strip() for h in live]

    def letter(self, tab: str, header: str) -> str:
        wanted = header.strip().lower()
        for i, h in enumerate(self.headers[tab], start=1):
            if h.strip().lower() == wanted:
                return column_letter(i)
        raise ValueError(f"the {tab} tab has no {header!r} column; the Dashboard needs it")

    def col(self, tab: str, header: str) -> str:
        letter = self.letter(tab, header)
        return f"{_sheet(tab)}!${letter}:${letter}"

    def cell(self, tab: str, header: str, row: int) -> str:
        return f"{_sheet(tab)}!${self.letter(tab, header)}{row}"


# Where the headline figures live: the web page, the tests and people read the same names.
FIGURES: dict[str, str] = {
    "today_leads": "B3", "today_contacted": "D3", "today_contacted_pct": "E3",
    "today_avg_response": "B4", "response_target": "D4",
    "producers_untouched": "B29", "leads_untouched": "B30", "producers_slow": "B31",
    "reassigned_today": "B32", "manager_alerts_today": "B33",
    "pipeline_new_today": "B36", "pipeline_quoted": "B37", "pipeline_follow_up_due": "B38",
    "binds_this_week": "B39", "premium_this_week": "D39",
    "month_total": "B55", "month_other_sources": "B54",
}
TIME_ZONE_NOTE = "A5"
PRODUCER_FIRST_ROW = 7
PRODUCER_COLUMNS = ("name", "leads", "contacted", "avg_minutes", "close_rate", "untouched",
                    "untouched_alert", "slow_alert")
SOURCE_FIRST_ROW = 42


def producer_rows() -> range:
    return range(PRODUCER_FIRST_ROW, PRODUCER_FIRST_ROW + PRODUCER_SLOTS)


def source_rows() -> range:
    return range(SOURCE_FIRST_ROW, SOURCE_FIRST_ROW + SOURCE_SLOTS)


def _time_zone_note(r: Refs) -> str:
    """A formula naming the Settings Time Zone (the default when the row is missing or blank)."""
    found = (f'INDEX({r.col(SETTINGS.name, "Value")},MATCH("Time Zone",{r.col(SETTINGS.name, "Setting")},0))')
    zone = f'IF(IFERROR({found},"")="","{DEFAULT_SETTINGS["Time Zone"]}",{found})'
    return (f'="Times and TODAY()/NOW() are in the time zone "&{zone}&" (Settings: Time Zone). '
            f'Excel and LibreOffice use this computer\'s clock: set it to that zone."')


def dashboard_layout(headers: Mapping[str, Sequence[str]] | None = None) -> list[Cell]:
    """Every Dashboard cell; `headers` = live header order per tab (defaults to tabs.py)."""
    r = Refs(headers)
    lead = lambda h: r.col(LEADS.name, h)  # noqa: E731
    act = lambda h: r.col(ACTIVITY.name, h)  # noqa: E731
    received, owner, assigned = lead("Received At"), lead("Assigned To"), lead("Assigned At")
    status, contact, minutes = lead("Status"), lead("First Contact At"), lead("Response Minutes")
    today = f'{received},">="&TODAY(),{received},"<"&TODAY()+1'
    stale = f'"<="&NOW()-{UNTOUCHED_MINUTES}/1440'
    monday = "TODAY()-WEEKDAY(TODAY(),2)+1"
    this_week = f'{lead("Bound At")},">="&{monday},{lead("Bound At")},"<"&{monday}+7'
    month = f'{received},">="&DATE(YEAR(TODAY()),MONTH(TODAY()),1),{received},"<"&DATE(YEAR(TODAY()),MONTH(TODAY())+1,1)'
    activity_today = f'{act("Time")},">="&TODAY(),{act("Time")},"<"&TODAY()+1'
    target = "$" + FIGURES["response_target"][0] + "$" + FIGURES["response_target"][1:]
    f = FIGURES

    cells = [
        Cell("A1", "LEAD DISTRIBUTION DASHBOARD", style="title"),
        Cell("F1", "Updated", style="note"),
        Cell("G1", "=NOW()", DATETIME, "note"),
        Cell("A2", "Recomputed by the spreadsheet from the Leads and Activity tabs; today = TODAY().", style="note"),
        Cell("A3", "Today's leads"), Cell(f["today_leads"], f"=COUNTIFS({today})", "0", "figure"),
        Cell("C3", "Contacted"), Cell(f["today_contacted"], f'=COUNTIFS({today},{contact},"<>")', "0", "figure"),
        Cell(f["today_contacted_pct"], f'=IFERROR({f["today_contacted"]}/{f["today_leads"]},"")', PERCENT, "figure"),
        Cell("A4", "Avg response (min)"),
        Cell(f["today_avg_response"], f'=IFERROR(AVERAGEIFS({minutes},{today},{contact},"<>"),"")', MINUTES, "figure"),
        Cell("C4", "Target: under (min)"), Cell(f["response_target"], RESPONSE_TARGET_MINUTES, "0", "figure"),
        Cell(TIME_ZONE_NOTE, _time_zone_note(r), style="note"),
    ]
    headers_row = ("Producer", "Leads today", "Contacted", "Avg time (min)", f"Close % ({CLOSE_RATE_DAYS} days)",
                   f"Untouched {UNTOUCHED_MINUTES}+ min", "Alert: untouched", "Alert: response")
    cells += [Cell(f"{column_letter(i)}{PRODUCER_FIRST_ROW - 1}", h, style="header")
              for i, h in enumerate(headers_row, start=1)]
    for slot, row in enumerate(producer_rows()):
        name_ref = r.cell(PRODUCERS.name, "Name", slot + 2)
        me = f"$A{row}"
        mine = f"{owner},{me}"
        window = f'{assigned},">="&TODAY()-{CLOSE_RATE_DAYS}'
        blank = f'IF({me}="","",'
        cells += [
            Cell(f"A{row}", f'=IF({name_ref}="","",{name_ref})'),
            Cell(f"B{row}", f"={blank}COUNTIFS({mine},{today}))", "0"),
            Cell(f"C{row}", f'={blank}COUNTIFS({mine},{today},{contact},"<>"))', "0"),
            Cell(f"D{row}", f'={blank}IFERROR(AVERAGEIFS({minutes},{mine},{today},{contact},"<>"),""))', MINUTES),
            Cell(f"E{row}", f'={blank}IFERROR(COUNTIFS({mine},{window},{status},"Bound")/COUNTIFS({mine},{window}),""))',
                 PERCENT),
            Cell(f"F{row}", f'={blank}COUNTIFS({mine},{status},"New",{assigned},{stale})'
                            f'-COUNTIFS({mine},{status},"New",{assigned},{stale},{contact},"<>"))', "0"),
            Cell(f"G{row}", f'={blank}IF(F{row}>0,{me}&" has "&F{row}&" lead"&IF(F{row}=1,"","s")'
                            f'&" untouched ({UNTOUCHED_MINUTES} min+)",""))', style="alert"),
            Cell(f"H{row}", f'={blank}IF(D{row}="","",IF(D{row}>{target},{me}&" response time above target ("'
                            f'&ROUND(D{row},1)&" min)","")))', style="alert"),
        ]
    first, last = PRODUCER_FIRST_ROW, PRODUCER_FIRST_ROW + PRODUCER_SLOTS - 1
    cells += [
        Cell("A28", "ALERTS", style="section"),
        Cell("A29", f"Producers with leads untouched {UNTOUCHED_MINUTES}+ min"),
        Cell(f["producers_untouched"], f'=COUNTIF($F${first}:$F${last},">0")', "0", "figure"),
        Cell("A30", f"Leads untouched {UNTOUCHED_MINUTES}+ min (all owners)"),
        Cell(f["leads_untouched"], f'=COUNTIFS({status},"New",{assigned},{stale})'
                                   f'-COUNTIFS({status},"New",{assigned},{stale},{contact},"<>")', "0", "figure"),
        Cell("A31", "Producers above the response target today"),
        Cell(f["producers_slow"], f'=COUNTIF($D${first}:$D${last},">"&{target})', "0", "figure"),
        Cell("A32", "Reassigned for slow response today"),
        Cell(f["reassigned_today"], f'=COUNTIFS({activity_today},{act("Event")},"{REASSIGNED}")', "0", "figure"),
        Cell("A33", "Manager alerts today"),
        Cell(f["manager_alerts_today"], f'=COUNTIFS({activity_today},{act("Event")},"{MANAGER_ALERT}")', "0", "figure"),
        Cell("A35", "PIPELINE", style="section"),
        Cell("A36", "New leads today"), Cell(f["pipeline_new_today"], f'={f["today_leads"]}', "0", "figure"),
        Cell("A37", "Quoted (pending)"), Cell(f["pipeline_quoted"], f'=COUNTIFS({status},"Quoted")', "0", "figure"),
        Cell("A38", "Follow-up due today (incl. overdue)"),
        Cell(f["pipeline_follow_up_due"], f'=COUNTIFS({lead("Next Follow-up")},"<"&TODAY()+1,'
                                          f'{status},"<>Bound",{status},"<>Lost")', "0", "figure"),
        Cell("A39", "Binds this week"),
        Cell(f["binds_this_week"], f'=COUNTIFS({status},"Bound",{this_week})', "0", "figure"),
        Cell("C39", "Premium"),
        Cell(f["premium_this_week"], f'=SUMIFS({lead("Premium")},{status},"Bound",{this_week})', MONEY, "figure"),
        Cell("A40", "LEADS BY SOURCE (this month)", style="section"),
        Cell(f"A{SOURCE_FIRST_ROW - 1}", "Source", style="header"),
        Cell(f"B{SOURCE_FIRST_ROW - 1}", "Leads this month", style="header"),
    ]
    for slot, row in enumerate(source_rows()):
        name_ref = r.cell(SOURCES.name, "Source", slot + 2)
        cells += [
            Cell(f"A{row}", f'=IF({name_ref}="","",{name_ref})'),
            Cell(f"B{row}", f'=IF($A{row}="","",COUNTIFS({lead("Source")},$A{row},{month}))', "0"),
        ]
    s_first, s_last = SOURCE_FIRST_ROW, SOURCE_FIRST_ROW + SOURCE_SLOTS - 1
    cells += [
        Cell("A54", "Other (not in Sources)"),
        Cell(f["month_other_sources"], f'={f["month_total"]}-SUM(B{s_first}:B{s_last})', "0"),
        Cell("A55", "Total this month", style="header"),
        Cell(f["month_total"], f"=COUNTIFS({month})", "0", "figure"),
    ]
    return cells


def dashboard_cells(headers: Mapping[str, Sequence[str]] | None = None) -> list[tuple[str, Any]]:
    """(A1, value) pairs for a backend that writes values only (formulas start with '=')."""
    return [(c.a1, c.value) for c in dashboard_layout(headers)]


def number_formats(headers: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    return {c.a1: c.number_format for c in dashboard_layout(headers) if c.number_format}


def chart_specs() -> list[ChartSpec]:
    s_last = SOURCE_FIRST_ROW + SOURCE_SLOTS
    p_first, p_last = PRODUCER_FIRST_ROW, PRODUCER_FIRST_ROW + PRODUCER_SLOTS - 1
    return [
        ChartSpec("leads_by_source", "Leads by source (this month)", f"A{SOURCE_FIRST_ROW}:A{s_last}",
                  f"B{SOURCE_FIRST_ROW}:B{s_last}", "Leads this month", anchor="J2", y_title="Leads"),
        ChartSpec("response_by_producer", "Average response by producer (today, min)", f"A{p_first}:A{p_last}",
                  f"D{p_first}:D{p_last}", "Avg time (min)", anchor="J20", y_title="Minutes", kind="bar"),
    ]
