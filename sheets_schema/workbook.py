"""The whole workbook as an .xlsx file (openpyxl): export every tab plus the live Dashboard, import it back.

Export writes real date and number cells (local times in the agency's time zone, since a
spreadsheet has no time zones) so the Dashboard formulas work, and neutralizes text that
a spreadsheet would evaluate (= + - @). The zone those times are in is recorded as the
workbook's "Time Zone" document property. Import is for owners who edit offline or move
between backends:
- times are read in the zone they were written in: the document property, else the
  workbook's own Settings Time Zone, else the store's (a workbook made by hand);
- config tabs present in the workbook replace the store's; tabs left out stay as they are;
- Settings are merged by name: rows left out keep their current values;
- Leads: a Lead ID not yet in the store is added as it is (no routing, no messages: it is a
  record being moved, not a new enquiry); for a Lead ID already there only the columns
  people edit are taken (Status, Premium, Attempts, Lost Reason, Notes), a Status change
  through automations.speed_clock.status so First Contact At / Quoted At / Bound At are stamped and
  logged as a sheet edit would be;
- Activity is append-only, and it is the journal that makes the scheduler exactly-once: its
  rows are added, never replaced, except those the store already has (same Key, or same
  time, lead, event and detail), so a store filled from a workbook does not send again what
  was sent, and importing a workbook into the store it came from adds nothing.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Callable
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.cell import WriteOnlyCell
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import ValidationError

from automations.ports import Store
from automations.settings_text import read_time_zone
from . import cells
from .dashboard import TAB_NAME as DASHBOARD, chart_specs, dashboard_layout
from .models import Activity, Lead, activity_not_in
from .tabs import ACTIVITY, CONFIG_TABS, LEADS, SETTINGS, TABS, Column, Tab, snake

TIME_ZONE_PROPERTY = "Time Zone"  # custom document property: the zone the exported times are written in
FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "money": '"$"#,##0.00', "percent": "0%",
           "number": "0.0", "int": "0"}
PHONE = re.compile(r"^\+\d{6,15}$")
PEOPLE_EDIT = ("premium", "attempts", "lost_reason", "notes")
BOLD = Font(bold=True)
STYLE_FONTS = {"title": Font(bold=True, size=14), "section": Font(bold=True, size=12), "header": BOLD,
               "figure": Font(bold=True, size=12), "alert": Font(color="B3261E"), "note": Font(italic=True,
                                                                                              color="666666")}
HEADER_FILL = PatternFill("solid", fgColor="E8EEF9")
# (store, lead, new status, now, who) -> the lead after the change; ValueError for a status it cannot take.
# The speed clock owns the rule (stamps, Activity rows); app.py hands it in, so this module never imports it.
ChangeStatus = Callable[[Store, Lead, str, datetime, str], Lead]


# ---- export --------------------------------------------------------------------------------
def safe_text(value: str) -> str:
    """Neutralize text a spreadsheet would evaluate; an E.164 phone number cannot be a formula."""
    return value if PHONE.match(value) else cells.neutralize(value)


def cell_value(kind: str, value: Any, tz: ZoneInfo) -> Any:
    """A Python value (or cell text) -> what an xlsx cell should hold for that column kind."""
    parsed = cells.parse(kind, value) if isinstance(value, str) and kind != "text" else value
    if parsed is None:  # blank, or text that does not parse ("about $20"): kept as the owner typed it
        return safe_text(value) if isinstance(value, str) and value.strip() else None
    if isinstance(parsed, datetime):
        return parsed.astimezone(tz).replace(tzinfo=None) if parsed.tzinfo else parsed
    if isinstance(parsed, (date, int, float)) and not isinstance(parsed, bool):
        return parsed
    text = cells.to_text(kind, parsed) if not isinstance(parsed, str) else parsed
    return safe_text(text) if text else None


def _styled(ws, value: Any, number_format: str | None = None, font: Font | None = None,
            fill: PatternFill | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if number_format:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell


def _write_tab(ws, tab: Tab, rows: list[dict[str, Any]], tz: ZoneInfo) -> None:
    """A data tab in write-only mode (rows streamed: large Leads tabs export in seconds)."""
    ws.freeze_panes = "A2"
    for i, col in enumerate(tab.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(col.header) + 4))
    ws.append([_styled(ws, h, font=BOLD, fill=HEADER_FILL) for h in tab.headers])
    formats = [FORMATS.get(col.kind) for col in tab.columns]
    for row in rows:
        values = [cell_value(col.kind, row.get(col.key), tz) for col in tab.columns]
        ws.append([_styled(ws, v, fmt) if fmt and v is not None else v for v, fmt in zip(values, formats)])


def write_dashboard(ws) -> None:
    """The Dashboard tab's formulas, formats and charts (the same definition as the Sheets `init`)."""
    grid: dict[int, dict[int, Any]] = {}
    for spec in dashboard_layout():
        col, row = coordinate_from_string(spec.a1)
        grid.setdefault(row, {})[column_index_from_string(col)] = _styled(
            ws, spec.value, spec.number_format, STYLE_FONTS.get(spec.style))
    ws.column_dimensions["A"].width = 40
    for letter in "BCDEF":
        ws.column_dimensions[letter].width = 15
    for letter in "GH":
        ws.column_dimensions[letter].width = 38
    for row in range(1, max(grid) + 1):
        cells_in_row = grid.get(row, {})
        ws.append([cells_in_row.get(c) for c in range(1, max(cells_in_row, default=0) + 1)])
    for spec in chart_specs():
        chart = BarChart()
        chart.type = "bar" if spec.kind == "bar" else "col"
        chart.title, chart.y_axis.title = spec.title, spec.y_title
        chart.legend = None
        chart.add_data(Reference(ws, range_string=f"{ws.title}!{spec.values}"), titles_from_data=False)
        chart.set_categories(Reference(ws, range_string=f"{ws.title}!{spec.categories}"))
        chart.series[0].tx = None
        chart.width, chart.height = 18, 8
        ws.add_chart(chart, spec.anchor)


def export_workbook(store: Store, target: str | Path | IO[bytes]) -> None:
    """Every tab of the store, then the Dashboard first in tab order (it is what a manager opens)."""
    tz = store.config().settings.tz
    wb = Workbook(write_only=True)
    wb.custom_doc_props.append(StringProperty(name=TIME_ZONE_PROPERTY, value=tz.key))
    write_dashboard(wb.create_sheet(DASHBOARD))
    for tab in TABS.values():
        if tab is LEADS:
            rows = [lead.to_row() for lead in store.leads()]
        elif tab is ACTIVITY:
            rows = [event.to_row() for event in store.activity()]
        else:
            rows = store.read_rows(tab.name)
        _write_tab(wb.create_sheet(tab.name), tab, rows, tz)
    wb.calculation.fullCalcOnLoad = True  # Excel recomputes TODAY()/NOW() on open
    wb.save(target)


# ---- import --------------------------------------------------------------------------------
@dataclass
class ImportSummary:
    replaced: list[str] = field(default_factory=list)
    settings_merged: int = 0
    leads_added: int = 0
    leads_updated: int = 0
    activity_added: int = 0
    activity_known: int = 0  # Activity rows the store already had
    skipped: list[str] = field(default_factory=list)  # rows that could not be used, and why

    def lines(self) -> list[str]:
        out = [f"Replaced tabs: {', '.join(self.replaced) or '(none)'}"]
        if self.settings_merged:
            out.append(f"Settings merged: {self.settings_merged} row(s) from the workbook, the rest kept")
        out.append(f"Leads added: {self.leads_added}, updated: {self.leads_updated}")
        if self.activity_added or self.activity_known:
            out.append(f"Activity rows added: {self.activity_added} ({self.activity_known} already there)")
        out += [f"Skipped: {s}" for s in self.skipped]
        return out


def unneutralize(value: Any) -> Any:
    """Undo `neutralize`: "'=SUM(1)" read back is the text "=SUM(1)" that was exported."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in cells.FORMULA_START:
        return value[1:]
    return value


def _header_map(ws, tab: Tab) -> dict[int, Column]:
    """Columns found by header text (or key), wherever the owner moved them; unknown ones ignored."""
    found: dict[int, Column] = {}
    for i, header in enumerate(next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ()), start=0):
        if header is None:
            continue
        try:
            found[i] = tab.column(str(header).strip())
        except KeyError:
            match = next((c for c in tab.columns if c.key == snake(str(header))), None)
            if match is not None:
                found[i] = match
    return found


def _has_key_column(ws, tab: Tab) -> bool:
    return tab.key_column is None or any(c.header == tab.key_column for c in _header_map(ws, tab).values())


def _rows(ws, tab: Tab, tz: ZoneInfo) -> list[dict[str, Any]]:
    columns = _header_map(ws, tab)
    out = []
    for values in ws.iter_rows(min_row=2, values_only=True):
        row = {}
        for i, col in columns.items():
            value = unneutralize(values[i]) if i < len(values) else None
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=tz) if col.kind == "datetime" else value
            row[col.key] = value
        if any(not cells.is_blank(v) for v in row.values()):
            out.append(row)
    return out


def _as_text(col: Column, value: Any) -> str:
    if cells.is_blank(value):
        return ""
    if isinstance(value, str):
        return value
    return cells.to_text(col.kind, cells.parse(col.kind, value) if col.kind != "text" else value)


class WorkbookError(ValueError):
    """The file is not a readable xlsx workbook; nothing was changed."""


def _zone(name: Any) -> ZoneInfo | None:
    """A zone as the Settings tab would read it ('Pacific' is America/Los_Angeles)."""
    return None if cells.is_blank(name) else read_time_zone(str(name))


def workbook_zone(wb: Workbook, fallback: ZoneInfo) -> ZoneInfo:
    """The zone the workbook's naive times are in: the one the export recorded, else its Settings
    Time Zone, else `fallback` (the store's); never the importing store's when the file says otherwise."""
    prop = wb.custom_doc_props[TIME_ZONE_PROPERTY] if TIME_ZONE_PROPERTY in wb.custom_doc_props.names else None
    if prop is not None and (zone := _zone(prop.value)):
        return zone
    if SETTINGS.name in wb.sheetnames:
        for row in _rows(wb[SETTINGS.name], SETTINGS, fallback):
            if str(row.get("setting") or "").strip().lower() == "time zone" and (zone := _zone(row.get("value"))):
                return zone
    return fallback


def import_workbook(store: Store, source: str | Path | IO[bytes], now: datetime,
                    change_status: ChangeStatus) -> ImportSummary:
    """Read an xlsx back into the store (see the module docstring for what is replaced or merged).

    Everything is read and parsed first; the store is written only once the whole file was read.
    """
    config = store.config()
    try:
        wb = load_workbook(source, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, InvalidFileException) as exc:
        raise WorkbookError(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    tz = workbook_zone(wb, config.settings.tz)
    summary = ImportSummary()
    tabs: dict[str, list[dict[str, Any]]] = {}
    for tab in CONFIG_TABS:
        if tab.name not in wb.sheetnames:
            continue
        if not _has_key_column(wb[tab.name], tab):  # a sheet that merely shares the name must not wipe the tab
            summary.skipped.append(f"{tab.name}: no {tab.key_column!r} column, tab left as it was")
            continue
        tabs[tab.name] = [{k: _as_text(tab.column(k), v) for k, v in row.items()}
                          for row in _rows(wb[tab.name], tab, tz)]
    leads = None
    if LEADS.name in wb.sheetnames:
        if _has_key_column(wb[LEADS.name], LEADS):
            leads = _rows(wb[LEADS.name], LEADS, tz)
        else:
            summary.skipped.append("Leads: no 'Lead ID' column, no lead imported")
    events = _activity(wb[ACTIVITY.name], tz, summary) if ACTIVITY.name in wb.sheetnames else []
    for name, rows in tabs.items():
        if name == SETTINGS.name:
            summary.settings_merged = len(rows)
            rows = _merge_settings(store.read_rows(SETTINGS.name), rows)
        store.replace_rows(name, rows)
        summary.replaced.append(name)
    with store.exclusive():  # one transaction; on Google Sheets the new leads go in one values.append
        _import_activity(store, events, summary)  # before the leads: a tick never sees a lead without its journal
        if leads is not None:
            _import_leads(store, leads, now, change_status, summary)
    return summary


def _activity(ws, tz: ZoneInfo, summary: ImportSummary) -> list[Activity]:
    """The Activity tab's rows as events; a sheet without Time and Event columns is left alone."""
    headers = {c.header for c in _header_map(ws, ACTIVITY).values()}
    if not {"Time", "Event"} <= headers:
        summary.skipped.append("Activity: no 'Time' and 'Event' columns, no activity imported")
        return []
    events = []
    for n, row in enumerate(_rows(ws, ACTIVITY, tz), start=2):
        try:
            events.append(Activity.from_row(row))
        except ValidationError as exc:
            fields = ", ".join(str(e["loc"][0]) for e in exc.errors())
            summary.skipped.append(f"Activity row {n}: missing or invalid {fields}")
    return events


def _import_activity(store: Store, events: list[Activity], summary: ImportSummary) -> None:
    """Add the rows the store does not have yet (models.activity_not_in)."""
    new = activity_not_in(store.activity(), events)
    store.add_activity(new)
    summary.activity_added, summary.activity_known = len(new), len(events) - len(new)


def _merge_settings(current: list[dict[str, Any]], incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = {str(r.get("setting", "")).strip().lower(): dict(r) for r in current}
    order = list(merged)
    for row in incoming:
        name = str(row.get("setting", "")).strip()
        if not name:
            continue
        key = name.lower()
        if key not in merged:
            order.append(key)
        merged[key] = {"setting": name, "value": row.get("value", "")}
    return [merged[k] for k in order if k]


def _import_leads(store: Store, rows: list[dict[str, Any]], now: datetime, change_status: ChangeStatus,
                  summary: ImportSummary) -> None:
    highest = 0
    for n, row in enumerate(rows, start=2):
        try:
            incoming = Lead.from_row(row)
        except ValidationError as exc:
            fields = ", ".join(str(e["loc"][0]) for e in exc.errors())
            summary.skipped.append(f"Leads row {n}: missing or invalid {fields}")
            continue
        number = incoming.number
        highest = max(highest, int(number) if number.isdigit() else 0)
        existing = store.get_lead(incoming.lead_id)
        if existing is None:
            store.add_lead(incoming)
            store.add_activity([Activity(time=now, lead_id=incoming.lead_id, event="imported",
                                         detail="added from an xlsx workbook")])
            summary.leads_added += 1
            continue
        if _update_lead(store, existing, incoming, row, now, change_status, summary, n):
            summary.leads_updated += 1
    _bump_lead_counter(store, highest)


def _update_lead(store: Store, existing: Lead, incoming: Lead, row: dict[str, Any], now: datetime,
                 change_status: ChangeStatus, summary: ImportSummary, n: int) -> bool:
    changes = {k: getattr(incoming, k) for k in PEOPLE_EDIT
               if k in row and getattr(incoming, k) != getattr(existing, k)}
    if changes:
        store.update_lead(existing.lead_id, changes)
        store.add_activity([Activity(time=now, lead_id=existing.lead_id, event="imported",
                                     detail="updated from an xlsx workbook: " + ", ".join(sorted(changes)))])
        existing = existing.model_copy(update=changes)
    if "status" in row and incoming.status != existing.status:
        try:
            change_status(store, existing, incoming.status, now, "xlsx import")
        except ValueError as exc:
            summary.skipped.append(f"Leads row {n} ({existing.lead_id}): {exc}")
            return bool(changes)
        return True
    return bool(changes)


LEAD_COUNTER = "lead_counter"


def _bump_lead_counter(store: Store, highest: int) -> None:
    """Imported Lead IDs must never be handed out again by next_lead_id()."""
    if not highest:
        return
    with store.exclusive():
        current = cells.parse_int(store.get_state(LEAD_COUNTER)) or 1000
        if highest > current:
            store.set_state(LEAD_COUNTER, str(highest))
