"""How our tabs sit in a Google Sheet that people edit: headers, A1 ranges and cell values.

Columns are found by header text (case and spacing ignored), never by position, so owners
may reorder, hide and add columns. Values are written as Sheets stores them: text as text
(sent RAW, so "=IMPORTXML(...)" and ZIP "02134" stay text), money and counts as numbers,
times as date serial numbers in the spreadsheet's own time zone (so NOW(), TODAY() and the
owner's formulas agree with them); the number formats that make serials look like dates
are set once by `leadrouter init` (see `format_requests`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from automations.settings_text import read_time_zone

from ..dashboard import TAB_NAME, chart_specs, dashboard_layout, grid_range
from .. import cells
from ..tabs import LEADS, TABS, Column, Tab

EPOCH = datetime(1899, 12, 30)
DAY = timedelta(days=1)
PROTECTION_TAG = "leadrouter:"
HISTORY = 5  # earlier Leads header rows remembered, to recognise rows written under them

# A hidden tab of the service's own: the tick lease shared by workers on different hosts
# (A1 a label, B1 the holder, C1 until when, ISO 8601). People have no reason to open it.
LEASE_TAB = "leadrouter"
LEASE_RANGE = f"'{LEASE_TAB}'!A1:C1"
LEASE_LABEL = "Tick lease (written by leadrouter; leave it alone)"

# Facts about the spreadsheet itself that a Google Sheets store adds to the Settings it hands
# out (never written to the Settings tab), so that `leadrouter check` can judge them.
SHEET_TIME_ZONE = "Spreadsheet Time Zone"
SHEET_MISSING_COLUMNS = "Spreadsheet Missing Columns"  # "Leads: Status, Assigned To | Activity: Key"

NUMBER_FORMATS: dict[str, dict[str, str]] = {
    "datetime": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"},
    "date": {"type": "DATE", "pattern": "yyyy-mm-dd"},
    "money": {"type": "CURRENCY", "pattern": "\"$\"#,##0.00"},
    "percent": {"type": "PERCENT", "pattern": "0.##%"},
    "number": {"type": "NUMBER", "pattern": "0.#"},
    "int": {"type": "NUMBER", "pattern": "0"},
    "text": {"type": "TEXT"},  # what people type into ZIP or Phone stays text ("02134")
    "choice": {"type": "TEXT"},
}


def quote_tab(title: str) -> str:
    """A tab name as A1 notation wants it: 'Form Fields' (quotes doubled inside)."""
    return "'" + title.replace("'", "''") + "'"


def col_letters(index: int) -> str:
    out, n = "", index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _norm(header: Any) -> str:
    return re.sub(r"\s+", " ", str(header or "")).strip().casefold()


@dataclass(frozen=True)
class Headers:
    """A tab's header row: where each of our columns is today."""
    cells: tuple[str, ...]

    @classmethod
    def of(cls, row: Iterable[Any]) -> "Headers":
        return cls(tuple("" if h is None else str(h) for h in row))

    def index(self, column: Column) -> int | None:
        return _index(self.cells, column.header)

    def positions(self, tab: Tab) -> dict[str, int]:
        """{column key: 0-based index} for the tab's columns present in the sheet."""
        return dict(_positions(self.cells, tab.name))

    def missing(self, tab: Tab) -> list[Column]:
        return [c for c in tab.columns if self.index(c) is None]

    def first_used(self) -> int:
        """The first column with a header: where Google's append puts a row's first value."""
        return next((i for i, h in enumerate(self.cells) if h.strip()), 0)


@lru_cache(maxsize=4096)
def _index(cells: tuple[str, ...], header: str) -> int | None:
    wanted = _norm(header)
    for i, cell in enumerate(cells):
        if _norm(cell) == wanted:
            return i
    return None


@lru_cache(maxsize=256)
def _positions(cells: tuple[str, ...], tab_name: str) -> tuple[tuple[str, int], ...]:
    found = []
    for col in TABS[tab_name].columns:
        i = _index(cells, col.header)
        if i is not None:
            found.append((col.key, i))
    return tuple(found)


class Codec:
    """Python values <-> cell values, for one spreadsheet time zone."""

    def __init__(self, time_zone: str) -> None:
        self.tz = read_time_zone(time_zone or "UTC") or ZoneInfo("UTC")

    # ---- writing ----
    def to_cell(self, kind: str, value: Any) -> str | float | bool:
        """The value to send RAW: numbers and serials for numbers and times, text otherwise."""
        if value is None or (isinstance(value, str) and value.strip() == "" and kind != "text"):
            return ""
        if kind in ("datetime", "date"):
            parsed = cells.parse(kind, value) if isinstance(value, str) else value
            if parsed is None:
                return str(value)
            return self.serial(parsed)
        if kind in ("int", "number", "money", "percent"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            parsed = cells.parse(kind, value)
            return str(value) if parsed is None else float(parsed)
        if kind == "bool":
            if isinstance(value, str):
                return value
            return "Y" if value else "N"
        return value if isinstance(value, str) else cells.to_text(kind, value)  # type: ignore[arg-type]

    def serial(self, value: date | datetime) -> float:
        if isinstance(value, datetime):
            local = value.astimezone(self.tz).replace(tzinfo=None, microsecond=0) if value.tzinfo else value
            return round((local - EPOCH) / DAY, 10)
        return float((value - EPOCH.date()).days)

    # ---- reading ----
    def from_cell(self, kind: str, raw: Any) -> Any:
        """A cell read UNFORMATTED -> what the row models parse (serials become times)."""
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            return raw
        if kind == "datetime":
            local = EPOCH + timedelta(seconds=round(raw * 86400))
            return local.replace(tzinfo=self.tz)
        if kind == "date":
            return (EPOCH + timedelta(days=raw)).date()
        return raw

    def record(self, tab: Tab, positions: dict[str, int], row: list[Any]) -> dict[str, Any]:
        out = {}
        for col in tab.columns:
            i = positions.get(col.key)
            if i is not None:
                out[col.key] = self.from_cell(col.kind, row[i] if i < len(row) else "")
        return out

    def cells_row(self, tab: Tab, positions: dict[str, int], width: int, values: dict[str, Any]) -> dict[str, Any]:
        """RowData for appendCells / updateCells (fields=userEnteredValue): our columns written,
        every other cell up to `width` given as {} (a new row's cells are empty anyway)."""
        row: list[dict[str, Any]] = [{} for _ in range(width)]
        for key, i in positions.items():
            if i < width:
                row[i] = self.cell_data(tab.column(key).kind, values.get(key))
        return {"values": row}

    def cell_data(self, kind: str, value: Any) -> dict[str, Any]:
        """CellData for updateCells / appendCells: a literal, never a formula."""
        cell = self.to_cell(kind, value)
        if cell == "":
            return {}
        if isinstance(cell, bool):
            return {"userEnteredValue": {"boolValue": cell}}
        if isinstance(cell, (int, float)):
            return {"userEnteredValue": {"numberValue": cell}}
        return {"userEnteredValue": {"stringValue": cell}}


# ---- where our tabs are, as of the last read --------------------------------------------------
@dataclass
class Layout:
    """Where things are in the spreadsheet, as of the last read."""
    time_zone: str
    sheet_ids: dict[str, int]
    headers: dict[str, Headers] = field(default_factory=dict)
    leads_history: list[tuple[str, ...]] = field(default_factory=list)  # earlier Leads header rows, newest first

    @property
    def codec(self) -> Codec:
        return Codec(self.time_zone)

    def positions(self, tab_name: str) -> dict[str, int]:
        headers = self.headers.get(tab_name)
        return headers.positions(TABS[tab_name]) if headers else {}

    def see_headers(self, tab_name: str, headers: Headers) -> None:
        old = self.headers.get(tab_name)
        if tab_name == LEADS.name and old is not None and old.cells != headers.cells and old.cells:
            self.leads_history = ([old.cells] + [h for h in self.leads_history if h != old.cells])[:HISTORY]
        self.headers[tab_name] = headers

    def dumps(self) -> str:
        return json.dumps({"tz": self.time_zone, "sheets": self.sheet_ids,
                           "headers": {t: list(h.cells) for t, h in self.headers.items()},
                           "history": [list(h) for h in self.leads_history]})

    @classmethod
    def loads(cls, text: str) -> "Layout":
        data = json.loads(text)
        return cls(data["tz"], data["sheets"], {t: Headers.of(h) for t, h in data.get("headers", {}).items()},
                   [tuple(h) for h in data.get("history", [])])


def update_cells(sheet_id: int, r: int, c: int, row: dict[str, Any]) -> dict[str, Any]:
    """The updateCells request that writes one RowData's values from (row r, column c) rightwards."""
    return {"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": r, "columnIndex": c},
                            "rows": [row], "fields": "userEnteredValue"}}


def cell_at(row: list[Any], i: int | None) -> Any:
    """The value at index `i` of a row read from the sheet ("" past its end: Google trims rows)."""
    return row[i] if i is not None and i < len(row) else ""


# ---- leadrouter init: structure and formatting -------------------------------------------------
def header_note(col: Column) -> str:
    who = ("Written by leadrouter: edits here are overwritten (the sheet warns first)." if col.editor == "service"
           else "Yours to edit.")
    parts = [col.note, who]
    if col.choices:
        parts.append("Choices: " + ", ".join(col.choices) + ".")
    return "\n".join(p for p in parts if p)


def format_requests(tab: Tab, sheet_id: int, positions: dict[str, int],
                    old_protections: Iterable[dict]) -> list[dict[str, Any]]:
    """batchUpdate requests that make one tab usable: frozen, bold header, notes, formats, dropdowns, warnings."""
    requests: list[dict[str, Any]] = [
        {"updateSheetProperties": {"properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
                                   "fields": "gridProperties.frozenRowCount"}},
        {"repeatCell": {"range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
                        "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                        "fields": "userEnteredFormat.textFormat.bold"}},
    ]
    for pr in old_protections:
        if str(pr.get("description", "")).startswith(PROTECTION_TAG):
            requests.append({"deleteProtectedRange": {"protectedRangeId": pr["protectedRangeId"]}})
    for col in tab.columns:
        i = positions.get(col.key)
        if i is None:
            continue
        column = {"sheetId": sheet_id, "startColumnIndex": i, "endColumnIndex": i + 1}
        data_rows = {**column, "startRowIndex": 1}
        requests.append({"updateCells": {"range": {**column, "startRowIndex": 0, "endRowIndex": 1},
                                         "rows": [{"values": [{"note": header_note(col)}]}], "fields": "note"}})
        fmt = NUMBER_FORMATS.get(col.kind)
        if fmt:
            requests.append({"repeatCell": {"range": data_rows,
                                            "cell": {"userEnteredFormat": {"numberFormat": fmt}},
                                            "fields": "userEnteredFormat.numberFormat"}})
        if col.choices:
            requests.append({"setDataValidation": {"range": data_rows, "rule": {
                "condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": c} for c in col.choices]},
                "inputMessage": col.note or f"One of {', '.join(col.choices)}",
                "strict": False, "showCustomUi": True}}})
        if col.editor == "service":
            requests.append({"addProtectedRange": {"protectedRange": {
                "range": column, "description": f"{PROTECTION_TAG} {tab.name} / {col.header} is written by the service",
                "warningOnly": True}}})
    return requests


# ---- the Dashboard tab: formulas and charts, recomputed by the spreadsheet itself -------------
def dashboard_requests(existing: dict | None, new_id: int, headers: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The Dashboard's cells (formulas written as formulas: they are ours, not the public's), their
    number formats, and, when the tab is new, its two charts. Re-running init rewrites the cells
    and leaves charts people may have restyled alone."""
    requests: list[dict[str, Any]] = []
    if existing is None:
        sheet_id = new_id
        requests.append({"addSheet": {"properties": {"sheetId": sheet_id, "title": TAB_NAME, "index": 0,
                                                     "gridProperties": {"rowCount": 200, "columnCount": 26}}}})
    else:
        sheet_id = existing["properties"]["sheetId"]
    for cell in dashboard_layout(headers):
        value = cell.value
        if isinstance(value, str) and value.startswith("="):
            entered = {"formulaValue": value}
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            entered = {"numberValue": value}
        else:
            entered = {"stringValue": "" if value is None else str(value)}
        data: dict[str, Any] = {"userEnteredValue": entered}
        fields = "userEnteredValue"
        if cell.number_format:
            data["userEnteredFormat"] = {"numberFormat": {"type": "NUMBER", "pattern": cell.number_format}}
            fields += ",userEnteredFormat.numberFormat"
        if cell.style in ("title", "section", "header"):
            data.setdefault("userEnteredFormat", {})["textFormat"] = {"bold": True}
            fields += ",userEnteredFormat.textFormat"
        r = grid_range(cell.a1)
        requests.append({"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": r["startRowIndex"],
                                                   "columnIndex": r["startColumnIndex"]},
                                         "rows": [{"values": [data]}], "fields": fields}})
    if existing is None:
        for spec in chart_specs():
            anchor = grid_range(spec.anchor)
            requests.append({"addChart": {"chart": {
                "spec": {"title": spec.title, "basicChart": {
                    "chartType": "BAR" if spec.kind == "bar" else "COLUMN", "legendPosition": "NO_LEGEND",
                    "axis": [{"position": "LEFT_AXIS" if spec.kind != "bar" else "BOTTOM_AXIS",
                              "title": spec.y_title}],
                    "domains": [{"domain": {"sourceRange": {"sources": [
                        dict(grid_range(spec.categories), sheetId=sheet_id)]}}}],
                    "series": [{"series": {"sourceRange": {"sources": [
                        dict(grid_range(spec.values), sheetId=sheet_id)]}}, "targetAxis":
                        "BOTTOM_AXIS" if spec.kind == "bar" else "LEFT_AXIS"}],
                    "headerCount": 0}},
                "position": {"overlayPosition": {"anchorCell": {
                    "sheetId": sheet_id, "rowIndex": anchor["startRowIndex"],
                    "columnIndex": anchor["startColumnIndex"]}}}}}})
    return requests
