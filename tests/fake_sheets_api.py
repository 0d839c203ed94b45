"""A local fake of the Google Sheets v4 REST API and Google's OAuth token endpoint.

It is a real HTTP server on 127.0.0.1 (werkzeug, free port) that speaks Google's request
and response shapes, so the real gspread + google-auth stack is exercised over loopback:
A1 ranges (quoted tab names included), values.get / batchGet / update / batchUpdate /
append (table detection, RAW vs USER_ENTERED, INSERT_ROWS) / clear, render options
(UNFORMATTED_VALUE, FORMATTED_VALUE, FORMULA; SERIAL_NUMBER or FORMATTED_STRING dates),
spreadsheets.get metadata, spreadsheets.batchUpdate with the requests leadrouter uses, the
service-account JWT bearer flow (the assertion's signature is verified), and Google-shaped
errors {"error": {"code", "message", "status"}}.

Tests act on it as people do (type a value, move or insert a column, rename a header, sort,
delete a row) through `FakeSheets` helpers, count its API calls, and inject failures: a 429
storm, an outage, latency, a call that is slow to apply (the client gives up; the write lands
later, as at Google), a write that lands but whose answer is lost, and the HTML error pages
Google's front end serves for a 502/504 instead of JSON.
"""
from __future__ import annotations

import json
import pickle
import re
import secrets
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

EPOCH = datetime(1899, 12, 30)
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
          429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
          504: "DEADLINE_EXCEEDED"}
PROJECT_NUMBER = "000000000000"
QUOTA_GROUPS = {"read": ("Read requests", "ReadRequestsPerMinutePerUser", "read_requests"),
                "write": ("Write requests", "WriteRequestsPerMinutePerUser", "write_requests")}
READ_KINDS = ("values.get", "values.batchGet", "spreadsheets.get", "developerMetadata.search")


def quota_message(group: str) -> str:
    metric, *_ = QUOTA_GROUPS[group]
    return (f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute per user' of service "
            f"'sheets.googleapis.com' for consumer 'project_number:{PROJECT_NUMBER}'.")


def quota_error_body(group: str, limit: int) -> dict:
    """Google's 429 as the Sheets API sends it (google.rpc.Status with an ErrorInfo and a Help)."""
    _, limit_name, metric = QUOTA_GROUPS[group]
    return {"error": {"code": 429, "message": quota_message(group), "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
         "domain": "googleapis.com",
         "metadata": {"quota_metric": f"sheets.googleapis.com/{metric}", "quota_limit": limit_name,
                      "quota_limit_value": str(limit), "quota_location": "global",
                      "service": "sheets.googleapis.com", "consumer": f"projects/{PROJECT_NUMBER}"}},
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [
            {"description": "Request a higher quota limit.",
             "url": "https://cloud.google.com/docs/quotas/help/request_increase"}]}]}}


MESSAGES = {
    429: quota_message("write"),
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Google serves it

    def log(self, type: str, message: str, *args) -> None:  # tests read counts, not access logs
        pass


class HeldAnswer:
    """An answer the fake keeps back: `handled` is set once the call has run, `release()` sends it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.handled = threading.Event()
        self.go = threading.Event()

    def release(self) -> None:
        self.go.set()


class ApiError(Exception):
    def __init__(self, code: int, message: str, html: bool = False, body: dict | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.html, self.body = code, message, html, body


class Quota:
    """Google's per-user, per-minute limits as a sliding window: a request is refused while `limit`
    requests of its group (read or write) were accepted in the 60 seconds before it. Refused ones
    do not count. `clock` is injectable (seconds)."""

    def __init__(self, limit: int = 60, window: float = 60.0, clock=time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.accepted: dict[tuple[str, str], list[float]] = {}
        self.refused: Counter = Counter()

    def admit(self, user: str, group: str) -> bool:
        now = self.clock()
        times = self.accepted.setdefault((user, group), [])
        times[:] = [t for t in times if t > now - self.window]
        if len(times) >= self.limit:
            self.refused[group] += 1
            return False
        times.append(now)
        return True


def html_error_page(code: int) -> str:
    """What Google's front end serves for a gateway error: a page, not the API's JSON error."""
    title = {502: "502. That\u2019s an error.", 504: "504. That\u2019s an error."}.get(code, f"{code}. Error")
    return (f"<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error {code} (Server Error)!!1</title>"
            f"<p><b>{title}</b> <ins>The server encountered a temporary error and could not complete your "
            f"request.<p>Please try again in 30 seconds.</ins></html>")


# ---- A1 notation ------------------------------------------------------------------------
def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def col_letters(index: int) -> str:
    out, n = "", index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


@dataclass
class A1:
    title: str
    r0: int | None = None  # 0-based inclusive; None = open
    c0: int | None = None
    r1: int | None = None  # 0-based inclusive; None = open
    c1: int | None = None


def parse_a1(text: str, default_title: str) -> A1:
    """'Leads', 'Leads!A:Z', "'Form Fields'!A1:Z", 'Leads!1:1', 'Leads!B3'."""
    text = text.strip()
    if text.startswith("'"):
        end = 1
        title = ""
        while True:
            nxt = text.index("'", end)
            if text[nxt:nxt + 2] == "''":
                title += text[end:nxt] + "'"
                end = nxt + 2
                continue
            title += text[end:nxt]
            rest = text[nxt + 1:]
            break
        if rest and not rest.startswith("!"):
            raise ValueError(text)
        rest = rest[1:]
    elif "!" in text:
        title, _, rest = text.partition("!")
    else:
        title, rest = text, ""
        if _CELL.match(text) and any(ch.isdigit() for ch in text) or ":" in text:
            title, rest = default_title, text
    if not rest:
        return A1(title)
    first, _, second = rest.partition(":")
    m1 = _CELL.match(first)
    m2 = _CELL.match(second) if second else m1
    if not m1 or not m2 or not (first and (m1.group(1) or m1.group(2))):
        raise ValueError(text)
    c0 = col_index(m1.group(1)) if m1.group(1) else None
    r0 = int(m1.group(2)) - 1 if m1.group(2) else None
    c1 = col_index(m2.group(1)) if m2.group(1) else None
    r1 = int(m2.group(2)) - 1 if m2.group(2) else None
    if not second and c0 is not None and r0 is not None:
        c1, r1 = c0, r0
    if not second and r0 is None:
        c1 = c0
    if not second and c0 is None:
        r1 = r0
    return A1(title, r0, c0, r1, c1)


def quote_title(title: str) -> str:
    return "'" + title.replace("'", "''") + "'" if not re.fullmatch(r"[A-Za-z0-9_]+", title) else title


def a1_text(title: str, r0: int, c0: int, r1: int, c1: int) -> str:
    return f"{quote_title(title)}!{col_letters(c0)}{r0 + 1}:{col_letters(c1)}{r1 + 1}"


# ---- the spreadsheet model -----------------------------------------------------------------
@dataclass
class Cell:
    value: Any = None  # str | float | bool | None (the computed value)
    formula: str | None = None
    number_format: dict | None = None
    note: str | None = None

    def empty(self) -> bool:
        return self.value is None and self.formula is None


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    rows: int = 1000
    cols: int = 26
    frozen_rows: int = 0
    grid: list[list[Cell | None]] = field(default_factory=list)
    column_formats: dict[int, dict] = field(default_factory=dict)  # repeatCell on whole columns
    validations: dict[int, dict] = field(default_factory=dict)  # column -> DataValidationRule
    protected: list[dict] = field(default_factory=list)
    hidden_cols: set[int] = field(default_factory=set)
    hidden_rows: set[int] = field(default_factory=set)  # by a basic filter (people's view only)
    basic_filter: dict | None = None
    charts: list[dict] = field(default_factory=list)
    hidden: bool = False

    def cell(self, r: int, c: int, create: bool = False) -> Cell | None:
        if r >= len(self.grid):
            if not create:
                return None
            self.grid.extend([] for _ in range(r + 1 - len(self.grid)))
        row = self.grid[r]
        if c >= len(row):
            if not create:
                return None
            row.extend(None for _ in range(c + 1 - len(row)))
        if row[c] is None and create:
            row[c] = Cell()
        return row[c]

    def last_data_row(self) -> int:
        for r in range(len(self.grid) - 1, -1, -1):
            if any(cell is not None and not cell.empty() for cell in self.grid[r]):
                return r
        return -1

    def number_format(self, r: int, c: int) -> dict | None:
        cell = self.cell(r, c)
        if cell is not None and cell.number_format:
            return cell.number_format
        return self.column_formats.get(c) if r > 0 else None

    def properties(self) -> dict:
        grid = {"rowCount": self.rows, "columnCount": self.cols}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        props = {"sheetId": self.sheet_id, "title": self.title, "index": self.index, "sheetType": "GRID",
                 "gridProperties": grid}
        if self.hidden:
            props["hidden"] = True
        return props


def serial(dt: datetime) -> float:
    return (dt - EPOCH) / timedelta(days=1)


_NUMBER = re.compile(r"^[-+]?(\$)?[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][-+]?\d+)?(%)?$")


def user_entered(text: Any, fmt: dict | None) -> tuple[Any, str | None, dict | None]:
    """What Sheets makes of a typed value: (value, formula, number format it implies)."""
    if not isinstance(text, str):
        return text, None, None
    if fmt and fmt.get("type") == "TEXT":
        return text, None, None
    if text.startswith("'"):
        return text[1:], None, None
    if text.startswith("=") and len(text) > 1:
        return "#NAME?", text, None
    stripped = text.strip()
    if stripped[:1] in ("+", "-") and len(stripped) > 1 and not _NUMBER.match(stripped):
        return "#ERROR!", "=" + stripped, None  # Sheets reads "+1+1" (or "-1+1") as the formula =+1+1
    if stripped.upper() in ("TRUE", "FALSE"):
        return stripped.upper() == "TRUE", None, None
    m = _NUMBER.match(stripped)
    if stripped and m and any(ch.isdigit() for ch in stripped):
        number = float(stripped.replace("$", "").replace(",", "").replace("%", ""))
        if m.group(6):
            return number / 100, None, {"type": "PERCENT", "pattern": "0.00%"}
        if m.group(1):
            return number, None, {"type": "CURRENCY", "pattern": "\"$\"#,##0.00"}
        return number, None, None
    for pattern, kind in (("%Y-%m-%d %H:%M:%S", "DATE_TIME"), ("%Y-%m-%d %H:%M", "DATE_TIME"),
                          ("%Y-%m-%d", "DATE"), ("%m/%d/%Y", "DATE"), ("%m/%d/%Y %H:%M:%S", "DATE_TIME")):
        try:
            when = datetime.strptime(stripped, pattern)
        except ValueError:
            continue
        pat = "yyyy-mm-dd hh:mm:ss" if kind == "DATE_TIME" else "yyyy-mm-dd"
        return serial(when), None, {"type": kind, "pattern": pat}
    return text, None, None


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def formatted(value: Any, fmt: dict | None) -> str:
    """FORMATTED_VALUE: roughly what a person sees in the cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    kind = (fmt or {}).get("type")
    if kind in ("DATE", "DATE_TIME", "TIME"):
        when = EPOCH + timedelta(days=value)
        pattern = (fmt or {}).get("pattern", "")
        if kind == "DATE" or ("h" not in pattern):
            return f"{when.month}/{when.day}/{when.year}" if not pattern.startswith("yyyy") else when.strftime("%Y-%m-%d")
        return when.strftime("%Y-%m-%d %H:%M:%S" if pattern.startswith("yyyy") else "%-m/%-d/%Y %H:%M:%S")
    if kind == "CURRENCY":
        return f"${value:,.2f}"
    if kind == "PERCENT":
        return f"{value * 100:.2f}%"
    return _number_text(value)


def _typed(value: Any) -> dict:
    """An ExtendedValue: which of stringValue / numberValue / boolValue holds the cell."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, (int, float)):
        return {"numberValue": value}
    return {"stringValue": str(value)}


def parse_field_mask(mask: str) -> dict:
    """'a.b(c,d.e),f' -> {'a': {'b': {'c': {}, 'd': {'e': {}}}}, 'f': {}} ({} = the whole field)."""
    pos = 0

    def group() -> dict:
        nonlocal pos
        out: dict = {}
        while pos < len(mask):
            start = pos
            while pos < len(mask) and mask[pos] not in ",().":
                pos += 1
            path = [mask[start:pos].strip()]
            while pos < len(mask) and mask[pos] == ".":
                pos += 1
                start = pos
                while pos < len(mask) and mask[pos] not in ",().":
                    pos += 1
                path.append(mask[start:pos].strip())
            if not all(path):
                raise ApiError(400, f"Invalid field selection {mask}")
            node = out
            for name in path[:-1]:
                node = node.setdefault(name, {})
            leaf = node.setdefault(path[-1], {})
            if pos < len(mask) and mask[pos] == "(":
                pos += 1
                leaf.update(group())
                if pos >= len(mask) or mask[pos] != ")":
                    raise ApiError(400, f"Invalid field selection {mask}")
                pos += 1
            if pos < len(mask) and mask[pos] == ")":
                return out
            if pos < len(mask) and mask[pos] == ",":
                pos += 1
        return out
    return group()


def apply_field_mask(value: Any, mask: dict) -> Any:
    """A partial response, as Google's `fields` parameter gives it."""
    if not mask:
        return value
    if isinstance(value, list):
        return [apply_field_mask(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: apply_field_mask(value[k], sub) for k, sub in mask.items() if k in value}


def unformatted(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


# ---- the server ---------------------------------------------------------------------------
CHECKS_FIRST = ("appendCells",)  # batchUpdate requests whose handler refuses before it changes anything
APPEND = "batchUpdate.appendCells"  # how calls, counts and failures name leadrouter's append (below)


def append_label(kind: str, payload: dict) -> str:
    """A batchUpdate made only of appendCells that reads ranges back is leadrouter's append of new
    leads: tests name it APPEND to tell it from the tick's batched writes (Google sees one endpoint)."""
    requests = payload.get("requests") if kind == "spreadsheets.batchUpdate" else None
    if requests and payload.get("responseRanges") and \
            all(isinstance(r, dict) and list(r) == ["appendCells"] for r in requests):
        return APPEND
    return kind


@dataclass
class Call:
    kind: str  # e.g. values.batchGet, values.append, spreadsheets.batchUpdate, batchUpdate.appendCells, token
    method: str
    path: str
    at: float
    status: int = 0  # the HTTP status it was answered with (0: not answered yet, or abandoned mid-way)


class FakeSheets:
    """One spreadsheet behind a Sheets v4 + OAuth token endpoint on 127.0.0.1."""

    def __init__(self, spreadsheet_id: str = "1FakeSpreadsheetId", public_key_pem: str = "",
                 time_zone: str = "America/New_York", title: str = "Lead Tracker") -> None:
        self.spreadsheet_id = spreadsheet_id
        self.public_key_pem = public_key_pem
        self.time_zone = time_zone
        self.auto_recalc = "ON_CHANGE"
        self.title = title
        self.sheets: dict[str, Sheet] = {}
        self._next_sheet_id = 0
        self._next_protected_id = 1000
        self.add_sheet("Sheet1")
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.tokens: set[str] = set()
        self.latency = 0.0  # seconds before each API request is handled (a float, or a callable giving one)
        self.quota: Quota | None = None  # Google's per-minute limits per user; None: unlimited
        self.users: dict[str, str] = {}  # access token -> the service account it was issued to
        self.down = False  # every API call answers 503 (an outage)
        self._failures: list[tuple[int, str | None, bool]] = []  # (code, kind or None = any, as an HTML page)
        self._lost_answers: list[tuple[int, bool]] = []  # next writes are applied, then answered (code, html)
        self._slow: list[tuple[str, float, bool]] = []  # (kind, seconds, applied): the next such calls are slow
        self._held: list[HeldAnswer] = []  # the next answers of a kind, held until released
        self._busy = 0  # requests being handled right now
        self._idle = threading.Condition(threading.Lock())
        self._server = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----
    def start(self) -> "FakeSheets":
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-sheets", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    # ---- failure injection and counting ----
    def fail_next(self, count: int, code: int = 429, *, kind: str | None = None, html: bool = False) -> None:
        """The next `count` calls (of `kind`, or any) answer `code` without running; `html`: as a
        front-end error page (text/html), the way Google's gateway answers a 502/504."""
        with self.lock:
            self._failures.extend([(code, kind, html)] * count)

    def clear_failures(self) -> None:
        """Google is well again: the failures still waiting from fail_next are dropped."""
        with self.lock:
            self._failures.clear()

    def lose_next_answers(self, count: int = 1, code: int = 503, *, html: bool = False) -> None:
        """The next `count` writes land in the sheet, but the caller gets `code` (503 by default)."""
        with self.lock:
            self._lost_answers.extend([(code, html)] * count)

    def slow_next(self, kind: str, seconds: float, count: int = 1, *, applied: bool = True) -> None:
        """The next `count` calls of `kind` take `seconds` before they run. A client that gives up
        first does not stop them: the write lands anyway (`applied=False`: it never does)."""
        with self.lock:
            self._slow.extend([(kind, seconds, applied)] * count)

    def hold_next_answer(self, kind: str) -> "HeldAnswer":
        """The next call of `kind` runs at once (a read sees the sheet as it is now), but its answer
        is held until the test releases it: a reply that is slow on the way back."""
        held = HeldAnswer(kind)
        with self.lock:
            self._held.append(held)
        return held

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until no request is being handled (a slow write has landed or been dropped)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout):
                raise TimeoutError("the fake Sheets API is still busy")

    def count(self, kind: str | None = None, since: int = 0) -> int:
        with self.lock:
            calls = [c for c in self.calls[since:] if c.kind != "token"]
        return sum(1 for c in calls if kind is None or c.kind == kind)

    def mark(self) -> int:
        with self.lock:
            return len(self.calls)

    def statuses(self, kind: str | None = None, since: int = 0) -> Counter:
        """HTTP statuses answered (of `kind`, or of every API call) since a mark."""
        with self.lock:
            return Counter(c.status for c in self.calls[since:] if c.kind != "token" and kind in (None, c.kind))

    def person(self, *requests: dict) -> None:
        """A person edits in the browser: the UI sends these spreadsheets.batchUpdate requests
        (moveDimension, insertDimension, deleteDimension, sortRange, setBasicFilter ...). Not
        metered against the service account's quota and not counted as its calls."""
        with self.lock:
            for req in requests:
                (name, body), = req.items()
                getattr(self, f"_req_{name}")(body)

    def column_of(self, title: str, header: str) -> int:
        with self.lock:
            return [c.value if c else None for c in self.sheets[title].grid[0]].index(header)

    def kinds(self, since: int = 0) -> list[str]:
        with self.lock:
            return [c.kind for c in self.calls[since:] if c.kind != "token"]

    # ---- what a person does in the browser ----
    def add_sheet(self, title: str, rows: int = 1000, cols: int = 26, sheet_id: int | None = None) -> Sheet:
        if sheet_id is None:
            sheet_id = self._next_sheet_id
            self._next_sheet_id += 1 if self._next_sheet_id else 17  # real ids are arbitrary
        sheet = Sheet(sheet_id, title, len(self.sheets), rows, cols)
        self.sheets[title] = sheet
        return sheet

    def table(self, title: str) -> list[list[Any]]:
        """The tab's values as a person reads them (unformatted; trailing blanks trimmed)."""
        with self.lock:
            sheet = self.sheets[title]
            return [["" if c is None or c.value is None else unformatted(c.value) for c in row] for row in sheet.grid]

    def records(self, title: str) -> list[dict[str, Any]]:
        rows = self.table(title)
        if not rows:
            return []
        headers = [str(h) for h in rows[0]]
        return [{h: (row[i] if i < len(row) else "") for i, h in enumerate(headers) if h}
                for row in rows[1:] if any(v not in ("", None) for v in row)]

    def type(self, title: str, a1: str, text: str) -> None:
        """A person types `text` into a cell (parsed as USER_ENTERED, honouring the column format)."""
        with self.lock:
            sheet = self.sheets[title]
            ref = parse_a1(a1, title)
            self._write(sheet, ref.r0, ref.c0, text, "USER_ENTERED")

    def type_in_column(self, title: str, header: str, lead_id: str, text: str, key_header: str = "Lead ID") -> None:
        with self.lock:
            sheet = self.sheets[title]
            headers = [c.value if c else None for c in sheet.grid[0]]
            key_col, col = headers.index(key_header), headers.index(header)
            row = next(r for r, cells in enumerate(sheet.grid)
                       if key_col < len(cells) and cells[key_col] and cells[key_col].value == lead_id)
            self._write(sheet, row, col, text, "USER_ENTERED")

    def move_column(self, title: str, header: str, to_index: int) -> None:
        with self.lock:
            sheet = self.sheets[title]
            width = max(len(r) for r in sheet.grid)
            for row in sheet.grid:
                row.extend(None for _ in range(width - len(row)))
            src = [c.value if c else None for c in sheet.grid[0]].index(header)
            for row in sheet.grid:
                row.insert(to_index, row.pop(src))
            order = list(range(width))
            order.insert(to_index, order.pop(src))
            sheet.column_formats = {order.index(c): f for c, f in sheet.column_formats.items() if c < width}
            sheet.validations = {order.index(c): v for c, v in sheet.validations.items() if c < width}

    def insert_column(self, title: str, index: int, header: str, fill: Any = None) -> None:
        with self.lock:
            sheet = self.sheets[title]
            for r, row in enumerate(sheet.grid):
                row.extend(None for _ in range(index - len(row)))
                value = header if r == 0 else fill
                row.insert(index, Cell(value) if value is not None else None)
            sheet.column_formats = {(c + 1 if c >= index else c): f for c, f in sheet.column_formats.items()}
            sheet.validations = {(c + 1 if c >= index else c): v for c, v in sheet.validations.items()}
            sheet.cols += 1

    def copy_row_to_end(self, title: str, row_number: int) -> None:
        """A person copies a row and pastes it below the table (or an append landed twice)."""
        with self.lock:
            sheet = self.sheets[title]
            copy = pickle.loads(pickle.dumps(sheet.grid[row_number - 1]))
            sheet.grid.insert(sheet.last_data_row() + 1, copy)

    def type_in_column_at_row(self, title: str, header: str, row_number: int, text: str) -> None:
        with self.lock:
            sheet = self.sheets[title]
            col = [c.value if c else None for c in sheet.grid[0]].index(header)
            self._write(sheet, row_number - 1, col, text, "USER_ENTERED")

    def rename_header(self, title: str, old: str, new: str) -> None:
        with self.lock:
            header = self.sheets[title].grid[0]
            cell = next(c for c in header if c is not None and c.value == old)
            cell.value = new

    def sort_rows(self, title: str, header: str, reverse: bool = False) -> None:
        with self.lock:
            sheet = self.sheets[title]
            col = [c.value if c else None for c in sheet.grid[0]].index(header)
            body = sheet.grid[1:]

            def key(row):
                cell = row[col] if col < len(row) else None
                return str(cell.value) if cell and cell.value is not None else ""
            sheet.grid[1:] = sorted(body, key=key, reverse=reverse)

    def delete_row(self, title: str, row_number: int) -> None:
        with self.lock:
            del self.sheets[title].grid[row_number - 1]

    def hide_column(self, title: str, index: int) -> None:
        with self.lock:
            self.sheets[title].hidden_cols.add(index)

    # ---- WSGI ----
    def _wsgi(self, environ, start_response):
        request = Request(environ)
        with self._idle:
            self._busy += 1
        try:
            try:
                body, status = self._handle(request, environ)
            except ApiError as exc:
                if "fake.call" in environ:
                    environ["fake.call"].status = exc.code
                if exc.html:
                    response = Response(html_error_page(exc.code), status=exc.code,
                                        content_type="text/html; charset=UTF-8")
                    return response(environ, start_response)
                body = exc.body or {"error": {"code": exc.code, "message": exc.message,
                                              "status": STATUS.get(exc.code, "UNKNOWN")}}
                status = exc.code
            if "fake.call" in environ and not environ["fake.call"].status:
                environ["fake.call"].status = status
            response = Response(json.dumps(body), status=status, content_type="application/json; charset=UTF-8")
            return response(environ, start_response)
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _handle(self, request: Request, environ) -> tuple[dict, int]:
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.path
        raw_path = raw_path.split("?", 1)[0]
        if raw_path == "/token":
            return self._token(request), 200
        kind, spreadsheet_id, rng, action = self._route(request.method, raw_path)
        payload = request.get_json(silent=True) or {}
        label = append_label(kind, payload)
        call = Call(label, request.method, raw_path, time.monotonic())
        environ["fake.call"] = call
        with self.lock:
            self.calls.append(call)
            failure = next((f for f in self._failures if f[1] in (None, label)), None)
            if failure is not None:
                self._failures.remove(failure)
            slow = next((s for s in self._slow if s[0] == label), None)
            if slow is not None:
                self._slow.remove(slow)
            down = self.down
        latency = self.latency() if callable(self.latency) else self.latency
        if latency:
            time.sleep(latency)  # before the handler: a client that gives up meanwhile changes nothing
        if slow is not None:
            time.sleep(slow[1])  # the client may have given up by now; Google carries on regardless
            if not slow[2]:
                raise ApiError(503, MESSAGES[503])
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            raise ApiError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                "login cookie or other valid authentication credential.")
        quota = self.quota
        if quota is not None:
            group = "read" if kind in READ_KINDS else "write"
            with self.lock:
                admitted = quota.admit(self.users.get(auth[7:], "?"), group)
            if not admitted:
                raise ApiError(429, quota_message(group), body=quota_error_body(group, quota.limit))
        if down:
            raise ApiError(503, MESSAGES[503])
        if failure:
            raise ApiError(failure[0], MESSAGES.get(failure[0], "error"), html=failure[2])
        if spreadsheet_id != self.spreadsheet_id:
            raise ApiError(404, "Requested entity was not found.")
        args = request.args
        mask = parse_field_mask(args["fields"]) if args.get("fields") else {}  # a bad mask: 400, nothing done
        with self.lock:
            result = apply_field_mask(getattr(self, "_" + kind.replace(".", "_"))(args, payload, rng), mask)
            if kind not in ("values.get", "values.batchGet", "spreadsheets.get") and self._lost_answers:
                code, html = self._lost_answers.pop(0)
                raise ApiError(code, MESSAGES.get(code, "error"), html=html)
            held = next((h for h in self._held if h.kind == label), None)
            if held is not None:
                self._held.remove(held)
        if held is not None:
            held.handled.set()
            held.go.wait(30)
        return result, 200

    def _route(self, method: str, path: str) -> tuple[str, str, str, str]:
        prefix = "/v4/spreadsheets/"
        if not path.startswith(prefix):
            raise ApiError(404, "Method not found.")
        rest = path[len(prefix):]
        if "/values" in rest:
            sid, _, tail = rest.partition("/values")
            sid = urllib.parse.unquote(sid)
            if tail.startswith(":"):
                action = tail[1:]
                kinds = {("GET", "batchGet"): "values.batchGet", ("POST", "batchUpdate"): "values.batchUpdate",
                         ("POST", "batchClear"): "values.batchClear"}
                if (method, action) not in kinds:
                    raise ApiError(404, "Method not found.")
                return kinds[(method, action)], sid, "", action
            encoded = tail.lstrip("/")
            encoded, _, action = encoded.partition(":")
            rng = urllib.parse.unquote(encoded)
            kinds = {("GET", ""): "values.get", ("PUT", ""): "values.update", ("POST", "append"): "values.append",
                     ("POST", "clear"): "values.clear"}
            if (method, action) not in kinds:
                raise ApiError(404, "Method not found.")
            return kinds[(method, action)], sid, rng, action
        sid, _, action = rest.partition(":")
        sid = urllib.parse.unquote(sid)
        if method == "GET" and not action:
            return "spreadsheets.get", sid, "", ""
        if method == "POST" and action == "batchUpdate":
            return "spreadsheets.batchUpdate", sid, "", action
        raise ApiError(404, "Method not found.")

    # ---- OAuth: the service account JWT bearer grant ----
    def _token(self, request: Request) -> dict:
        from google.auth import jwt
        with self.lock:
            self.calls.append(Call("token", "POST", "/token", time.monotonic()))
        form = request.form
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            raise ApiError(400, "unsupported_grant_type")
        try:
            # google-auth always addresses its assertion to Google's canonical token endpoint
            claims = jwt.decode(form.get("assertion", ""), certs=self.public_key_pem,
                                audience=["https://oauth2.googleapis.com/token", self.token_uri])
        except Exception as exc:  # noqa: BLE001 - any bad assertion is invalid_grant
            raise ApiError(400, f"invalid_grant: {exc}") from None
        if "spreadsheets" not in claims.get("scope", ""):
            raise ApiError(400, "invalid_scope")
        token = "ya29.fake-" + secrets.token_urlsafe(16)
        with self.lock:
            self.tokens.add(token)
            self.users[token] = str(claims.get("iss", ""))
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    # ---- spreadsheets.get / batchUpdate ----
    def _spreadsheets_get(self, args, payload, rng) -> dict:
        sheets = []
        for sheet in sorted(self.sheets.values(), key=lambda s: s.index):
            entry: dict[str, Any] = {"properties": sheet.properties()}
            if sheet.protected:
                entry["protectedRanges"] = [dict(p) for p in sheet.protected]
            sheets.append(entry)
        return {"spreadsheetId": self.spreadsheet_id,
                "properties": {"title": self.title, "locale": "en_US", "autoRecalc": self.auto_recalc,
                               "timeZone": self.time_zone},
                "sheets": sheets,
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"}

    def _sheet_by_id(self, sheet_id: int) -> Sheet:
        for sheet in self.sheets.values():
            if sheet.sheet_id == sheet_id:
                return sheet
        raise ApiError(400, f"Invalid requests[0]: No grid with id: {sheet_id}")

    def _spreadsheets_batchUpdate(self, args, payload, rng) -> dict:
        requests = payload.get("requests")
        if not isinstance(requests, list) or not requests:
            raise ApiError(400, "Invalid JSON payload received. Must specify at least one request.")
        # atomic: a batch that fails half-way is undone. A lone request whose handler checks
        # everything before it changes anything needs no copy (copying a 10,000-row tab for every
        # append would add the fake's own tens of milliseconds to every measured call)
        lone = len(requests) == 1 and isinstance(requests[0], dict) and list(requests[0]) in ([r] for r in CHECKS_FIRST)
        snapshot = None if lone else self._snapshot(requests)
        for text in payload.get("responseRanges") or []:  # a bad range is refused before anything is done
            self._sheet_of(self._ref(text))
        replies = []
        try:
            for i, req in enumerate(requests):
                (name, body), = req.items()
                handler = getattr(self, f"_req_{name}", None)
                if handler is None:
                    raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{name}\" at 'requests[{i}]'")
                replies.append(handler(body) or {})
        except ApiError:
            if snapshot is not None:
                self._restore(snapshot)  # a batchUpdate is atomic: all requests apply or none
            raise
        out: dict[str, Any] = {"spreadsheetId": self.spreadsheet_id, "replies": replies}
        if payload.get("includeSpreadsheetInResponse"):
            # the spreadsheet as it is after this batch, in the same answer (no second call)
            out["updatedSpreadsheet"] = self._spreadsheets_get(args, payload, rng)
            if payload.get("responseIncludeGridData"):
                self._add_grid_data(out["updatedSpreadsheet"], payload.get("responseRanges") or [])
        elif payload.get("responseRanges") or payload.get("responseIncludeGridData"):
            raise ApiError(400, "responseRanges and responseIncludeGridData need includeSpreadsheetInResponse")
        return out

    def _add_grid_data(self, spreadsheet: dict, ranges: list[str]) -> None:
        """GridData for each range, under its sheet, as Google encodes it: startRow/startColumn
        left out when 0 (proto3 JSON), an empty cell as {}, rows and cells past the data left off."""
        by_title = {entry["properties"]["title"]: entry for entry in spreadsheet["sheets"]}
        for text in ranges:
            ref = self._ref(text)
            sheet = self._sheet_of(ref)
            r0, c0 = ref.r0 or 0, ref.c0 or 0
            r1 = min(ref.r1 if ref.r1 is not None else sheet.rows - 1, len(sheet.grid) - 1)
            c1 = ref.c1 if ref.c1 is not None else sheet.cols - 1
            rows = []
            for r in range(r0, r1 + 1):
                values = []
                for c in range(c0, c1 + 1):
                    cell = sheet.cell(r, c)
                    if cell is None or cell.empty():
                        values.append({})
                        continue
                    data: dict[str, Any] = {"formattedValue": formatted(cell.value, sheet.number_format(r, c)),
                                            "effectiveValue": _typed(unformatted(cell.value))}
                    if cell.formula:
                        data["userEnteredValue"] = {"formulaValue": cell.formula}
                    else:
                        data["userEnteredValue"] = data["effectiveValue"]
                    values.append(data)
                while values and not values[-1]:
                    values.pop()
                rows.append({"values": values} if values else {})
            while rows and not rows[-1]:
                rows.pop()
            grid: dict[str, Any] = {"rowData": rows} if rows else {}
            if r0:
                grid["startRow"] = r0
            if c0:
                grid["startColumn"] = c0
            by_title[sheet.title].setdefault("data", []).append(grid)

    def _snapshot(self, requests: list) -> tuple:
        """Copies of the sheets these requests name, to undo a batch that fails half-way."""
        ids: set[int] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "sheetId" and isinstance(v, int):
                        ids.add(v)
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(requests)
        touched = {t: pickle.loads(pickle.dumps(s)) for t, s in self.sheets.items() if s.sheet_id in ids}
        return dict(self.sheets), touched, self._next_sheet_id, self._next_protected_id

    def _restore(self, snapshot: tuple) -> None:
        sheets, touched, self._next_sheet_id, self._next_protected_id = snapshot
        sheets.update(touched)
        self.sheets = sheets

    def _req_addSheet(self, body: dict) -> dict:
        props = body.get("properties", {})
        title = props.get("title") or f"Sheet{len(self.sheets) + 1}"
        if title in self.sheets:
            raise ApiError(400, f"Invalid requests[0].addSheet: A sheet with the name \"{title}\" already exists. "
                                "Please enter another name.")
        grid = props.get("gridProperties", {})
        wanted = props.get("sheetId")
        if wanted is not None and any(s.sheet_id == wanted for s in self.sheets.values()):
            raise ApiError(400, f"Invalid requests[0].addSheet: Sheet with id {wanted} already exists.")
        sheet = self.add_sheet(title, grid.get("rowCount", 1000), grid.get("columnCount", 26), wanted)
        sheet.frozen_rows = grid.get("frozenRowCount", 0)
        sheet.hidden = bool(props.get("hidden", False))
        return {"addSheet": {"properties": sheet.properties()}}

    def _req_deleteSheet(self, body: dict) -> None:
        sheet = self._sheet_by_id(body["sheetId"])
        del self.sheets[sheet.title]

    def _req_updateSheetProperties(self, body: dict) -> None:
        props, fields = body.get("properties", {}), body.get("fields", "")
        if not fields:
            raise ApiError(400, "Invalid requests[0].updateSheetProperties: At least one field must be updated, "
                                "but none were specified.")
        sheet = self._sheet_by_id(props.get("sheetId", 0))
        grid = props.get("gridProperties", {})
        for f in fields.split(","):
            f = f.strip()
            if f in ("gridProperties.frozenRowCount", "gridProperties"):
                sheet.frozen_rows = grid.get("frozenRowCount", 0)
            if f in ("gridProperties.columnCount", "gridProperties"):
                sheet.cols = grid.get("columnCount", sheet.cols)
            if f in ("gridProperties.rowCount", "gridProperties"):
                sheet.rows = grid.get("rowCount", sheet.rows)
            if f == "hidden":
                sheet.hidden = bool(props.get("hidden", False))
            if f == "title":
                del self.sheets[sheet.title]
                sheet.title = props["title"]
                self.sheets[sheet.title] = sheet

    def _req_updateSpreadsheetProperties(self, body: dict) -> None:
        props = body.get("properties", {})
        fields = [f.strip() for f in body.get("fields", "").split(",") if f.strip()]
        if not fields:
            raise ApiError(400, "Invalid requests[0].updateSpreadsheetProperties: At least one field must be "
                                "updated, but none were specified.")
        for f in fields:
            if f == "timeZone":
                try:
                    from zoneinfo import ZoneInfo
                    ZoneInfo(props["timeZone"])
                except Exception:  # noqa: BLE001 - Google refuses a zone it does not know
                    raise ApiError(400, f"Invalid requests[0].updateSpreadsheetProperties: Invalid timeZone "
                                        f"'{props.get('timeZone')}'") from None
                self.time_zone = props["timeZone"]
            elif f == "autoRecalc":
                if props.get("autoRecalc") not in ("ON_CHANGE", "MINUTE", "HOUR"):
                    raise ApiError(400, "Invalid requests[0].updateSpreadsheetProperties: Invalid value at "
                                        f"'properties.auto_recalc' ({props.get('autoRecalc')!r})")
                self.auto_recalc = props["autoRecalc"]
            elif f == "title":
                self.title = props["title"]

    def _req_deleteDimension(self, body: dict) -> None:
        rng = body.get("range", {})
        sheet = self._sheet_by_id(rng.get("sheetId", 0))
        start, end = rng.get("startIndex", 0), rng.get("endIndex")
        if end is None or end <= start:
            raise ApiError(400, "Invalid requests[0].deleteDimension: endIndex must be greater than startIndex.")
        if rng.get("dimension") == "ROWS":
            del sheet.grid[start:end]
            sheet.rows -= min(end, sheet.rows) - start
        else:
            for row in sheet.grid:
                del row[start:end]
            sheet.cols -= end - start

    def _move_column_extras(self, sheet: Sheet, order: list[int]) -> None:
        """Formats and validations follow their column; `order[new] = old`."""
        where = {old: new for new, old in enumerate(order)}
        sheet.column_formats = {where.get(c, c): f for c, f in sheet.column_formats.items()}
        sheet.validations = {where.get(c, c): v for c, v in sheet.validations.items()}
        sheet.hidden_cols = {where.get(c, c) for c in sheet.hidden_cols}

    def _req_moveDimension(self, body: dict) -> None:
        """Drag rows or columns: destinationIndex is counted before the source is taken out."""
        src = body.get("source", {})
        sheet = self._sheet_by_id(src.get("sheetId", 0))
        start, end, dest = src.get("startIndex", 0), src.get("endIndex"), body.get("destinationIndex")
        if end is None or end <= start or dest is None:
            raise ApiError(400, "Invalid requests[0].moveDimension: source and destinationIndex are required.")
        if src.get("dimension") == "ROWS":
            rows = sheet.grid[start:end]
            rest = sheet.grid[:start] + sheet.grid[end:]
            at = dest if dest <= start else dest - (end - start)
            sheet.grid[:] = rest[:at] + rows + rest[at:]
            return
        width = max([len(r) for r in sheet.grid] + [end, dest])
        order = list(range(width))
        moved, rest = order[start:end], order[:start] + order[end:]
        at = dest if dest <= start else dest - (end - start)
        order = rest[:at] + moved + rest[at:]
        for row in sheet.grid:
            row.extend(None for _ in range(width - len(row)))
            row[:] = [row[i] for i in order]
        self._move_column_extras(sheet, order)

    def _req_insertDimension(self, body: dict) -> None:
        rng = body.get("range", {})
        sheet = self._sheet_by_id(rng.get("sheetId", 0))
        start, end = rng.get("startIndex", 0), rng.get("endIndex")
        if end is None or end <= start:
            raise ApiError(400, "Invalid requests[0].insertDimension: endIndex must be greater than startIndex.")
        n = end - start
        if rng.get("dimension") == "ROWS":
            sheet.grid[start:start] = [[] for _ in range(n)]
            sheet.rows += n
            return
        for row in sheet.grid:
            if len(row) > start:
                row[start:start] = [None] * n
        sheet.cols += n
        shift = lambda c: c + n if c >= start else c  # noqa: E731
        sheet.column_formats = {shift(c): f for c, f in sheet.column_formats.items()}
        sheet.validations = {shift(c): v for c, v in sheet.validations.items()}
        sheet.hidden_cols = {shift(c) for c in sheet.hidden_cols}

    def _req_sortRange(self, body: dict) -> None:
        sheet, r0, r1, c0, c1 = self._grid_columns(body["range"])
        r1 = len(sheet.grid) if r1 is None else min(r1, len(sheet.grid))
        block = [list(row) + [None] * (c1 - len(row)) for row in sheet.grid[r0:r1]]

        def key(row, col):
            cell = row[col] if col < len(row) else None
            value = cell.value if cell is not None else None
            return (value is None, isinstance(value, str), value if value is not None else "")
        for spec in reversed(body.get("sortSpecs", [])):
            col = spec.get("dimensionIndex", 0)
            block.sort(key=lambda row: key(row, col), reverse=spec.get("sortOrder") == "DESCENDING")
        for i, row in enumerate(block):
            target = sheet.grid[r0 + i]
            target.extend(None for _ in range(c1 - len(target)))
            target[c0:c1] = row[c0:c1]

    def _req_setBasicFilter(self, body: dict) -> None:
        """A filter hides rows from people's view; the values API still reads and writes them."""
        flt = body.get("filter", {})
        sheet, r0, r1, c0, c1 = self._grid_columns(flt.get("range", {}))
        sheet.basic_filter = flt
        sheet.hidden_rows = set()
        for col, criteria in (flt.get("criteria") or {}).items():
            hidden = set(criteria.get("hiddenValues", []))
            for r in range(r0 + 1, len(sheet.grid)):
                cell = sheet.cell(r, int(col))
                if cell is not None and cell.value is not None and formatted(cell.value, None) in hidden:
                    sheet.hidden_rows.add(r)

    def _req_clearBasicFilter(self, body: dict) -> None:
        sheet = self._sheet_by_id(body.get("sheetId", 0))
        sheet.basic_filter, sheet.hidden_rows = None, set()

    def _req_appendDimension(self, body: dict) -> None:
        sheet = self._sheet_by_id(body["sheetId"])
        if body.get("dimension") == "COLUMNS":
            sheet.cols += int(body["length"])
        else:
            sheet.rows += int(body["length"])

    def _grid_columns(self, gr: dict) -> tuple[Sheet, int, int | None, int, int]:
        sheet = self._sheet_by_id(gr.get("sheetId", 0))
        c0 = gr.get("startColumnIndex", 0)
        c1 = gr.get("endColumnIndex", sheet.cols)
        r0 = gr.get("startRowIndex", 0)
        r1 = gr.get("endRowIndex")
        if c1 > sheet.cols or (r1 is not None and r1 > sheet.rows):
            raise ApiError(400, f"Invalid requests[0]: Range ({sheet.title}!{col_letters(c1 - 1)}) exceeds grid "
                                f"limits. Max rows: {sheet.rows}, max columns: {sheet.cols}")
        return sheet, r0, r1, c0, c1

    def _req_setDataValidation(self, body: dict) -> None:
        sheet, r0, r1, c0, c1 = self._grid_columns(body["range"])
        for c in range(c0, c1):
            if body.get("rule"):
                sheet.validations[c] = body["rule"]
            else:
                sheet.validations.pop(c, None)

    def _req_repeatCell(self, body: dict) -> None:
        sheet, r0, r1, c0, c1 = self._grid_columns(body["range"])
        fmt = body.get("cell", {}).get("userEnteredFormat", {}).get("numberFormat")
        if fmt is None or "numberFormat" not in body.get("fields", ""):
            return
        for c in range(c0, c1):
            sheet.column_formats[c] = fmt
            for r in range(max(r0, 1), len(sheet.grid)):
                cell = sheet.cell(r, c)
                if cell is not None:
                    cell.number_format = fmt

    def _req_addProtectedRange(self, body: dict) -> dict:
        pr = dict(body["protectedRange"])
        sheet, *_ = self._grid_columns(pr["range"])
        pr["protectedRangeId"] = self._next_protected_id
        self._next_protected_id += 1
        pr.setdefault("requestingUserCanEdit", True)
        sheet.protected.append(pr)
        return {"addProtectedRange": {"protectedRange": pr}}

    def _req_deleteProtectedRange(self, body: dict) -> None:
        for sheet in self.sheets.values():
            for pr in list(sheet.protected):
                if pr["protectedRangeId"] == body["protectedRangeId"]:
                    sheet.protected.remove(pr)
                    return
        raise ApiError(400, f"Invalid requests[0].deleteProtectedRange: No protected range with id: "
                            f"{body['protectedRangeId']}")

    def _apply_cell_data(self, sheet: Sheet, r: int, c: int, data: dict, fields: str) -> None:
        wanted = {f.strip() for f in fields.split(",")}
        every = "*" in wanted
        cell = sheet.cell(r, c, create=True)
        if every or "userEnteredValue" in wanted:
            uev = data.get("userEnteredValue")
            if uev is None:
                cell.value, cell.formula = None, None
            elif "stringValue" in uev:
                cell.value, cell.formula = uev["stringValue"], None
            elif "numberValue" in uev:
                cell.value, cell.formula = float(uev["numberValue"]), None
            elif "boolValue" in uev:
                cell.value, cell.formula = bool(uev["boolValue"]), None
            elif "formulaValue" in uev:
                cell.value, cell.formula = "#NAME?", uev["formulaValue"]
        if every or "note" in wanted:
            cell.note = data.get("note")
        if every or "userEnteredFormat" in wanted or "userEnteredFormat.numberFormat" in wanted:
            fmt = data.get("userEnteredFormat", {}).get("numberFormat")
            if fmt is not None or every or "userEnteredFormat" in wanted:
                cell.number_format = fmt

    def _req_addChart(self, body: dict) -> dict:
        chart = body.get("chart", {})
        spec, anchor = chart.get("spec", {}), chart.get("position", {}).get("overlayPosition", {}).get("anchorCell")
        if "basicChart" not in spec or anchor is None:
            raise ApiError(400, "Invalid requests[0].addChart: a chart needs spec.basicChart and an anchor cell.")
        for series in spec["basicChart"].get("series", []) + spec["basicChart"].get("domains", []):
            for source in series.get("series", series.get("domain", {})).get("sourceRange", {}).get("sources", []):
                self._sheet_by_id(source.get("sheetId", 0))  # a range on a sheet that does not exist: 400
        sheet = self._sheet_by_id(anchor.get("sheetId", 0))
        chart = dict(chart, chartId=1000 + sum(len(s.charts) for s in self.sheets.values()))
        sheet.charts.append(chart)
        return {"addChart": {"chart": chart}}

    def _req_updateCells(self, body: dict) -> None:
        fields = body.get("fields")
        if not fields:
            raise ApiError(400, "Invalid requests[0].updateCells: At least one field must be updated, "
                                "but none were specified.")
        rows = body.get("rows", [])
        if "start" in body:
            start = body["start"]
            sheet = self._sheet_by_id(start.get("sheetId", 0))
            r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
            r1 = r0 + len(rows)
            c1 = c0 + max((len(r.get("values", [])) for r in rows), default=0)
        else:
            sheet, r0, r1, c0, c1 = self._grid_columns(body["range"])
            if r1 is None:
                r1 = max(r0 + len(rows), len(sheet.grid))
        if c1 > sheet.cols or r1 > sheet.rows:
            raise ApiError(400, f"Invalid requests[0].updateCells: Range exceeds grid limits. "
                                f"Max rows: {sheet.rows}, max columns: {sheet.cols}")
        for i, r in enumerate(range(r0, r1)):
            values = rows[i].get("values", []) if i < len(rows) else []
            for j, c in enumerate(range(c0, c1)):
                # a CellData given ({} included) is written: fields it lacks are cleared, as Google does;
                # with `start`, cells past a row's own values are left alone
                if j < len(values) or "range" in body:
                    self._apply_cell_data(sheet, r, c, values[j] if j < len(values) else {}, fields)

    def _req_appendCells(self, body: dict) -> None:
        sheet = self._sheet_by_id(body.get("sheetId", 0))
        fields = body.get("fields")
        if not fields:
            raise ApiError(400, "Invalid requests[0].appendCells: At least one field must be updated, "
                                "but none were specified.")
        rows = body.get("rows", [])
        start = sheet.last_data_row() + 1
        width = max((len(r.get("values", [])) for r in rows), default=0)
        if width > sheet.cols:
            raise ApiError(400, "Invalid requests[0].appendCells: Range exceeds grid limits.")
        sheet.rows = max(sheet.rows, start + len(rows))
        for i, row in enumerate(rows):
            for j, data in enumerate(row.get("values", [])):
                self._apply_cell_data(sheet, start + i, j, data, fields)

    # ---- values ----
    def _sheet_of(self, ref: A1) -> Sheet:
        sheet = self.sheets.get(ref.title)
        if sheet is None:
            raise ApiError(400, f"Unable to parse range: {ref.title}")
        return sheet

    def _ref(self, text: str) -> A1:
        first = next(iter(sorted(self.sheets.values(), key=lambda s: s.index))).title
        if text in self.sheets:
            return A1(text)
        try:
            return parse_a1(text, first)
        except ValueError:
            raise ApiError(400, f"Unable to parse range: {text}") from None

    def _read(self, text: str, args) -> dict:
        ref = self._ref(text)
        sheet = self._sheet_of(ref)
        render = args.get("valueRenderOption", "FORMATTED_VALUE")
        dates = args.get("dateTimeRenderOption", "SERIAL_NUMBER")
        r0 = ref.r0 or 0
        c0 = ref.c0 or 0
        r1 = ref.r1 if ref.r1 is not None else max(len(sheet.grid), 1) - 1
        c1 = ref.c1 if ref.c1 is not None else sheet.cols - 1
        values: list[list[Any]] = []
        for r in range(r0, min(r1, len(sheet.grid) - 1) + 1):
            row = []
            for c in range(c0, c1 + 1):
                cell = sheet.cell(r, c)
                if cell is None or cell.empty():
                    row.append("")
                    continue
                fmt = sheet.number_format(r, c)
                if render == "FORMULA" and cell.formula:
                    row.append(cell.formula)
                elif render == "FORMATTED_VALUE":
                    row.append(formatted(cell.value, fmt))
                elif (dates == "FORMATTED_STRING" and isinstance(cell.value, float)
                      and (fmt or {}).get("type") in ("DATE", "DATE_TIME")):
                    row.append(formatted(cell.value, fmt))
                else:
                    row.append(unformatted(cell.value))
            while row and row[-1] == "":
                row.pop()
            values.append(row)
        while values and not values[-1]:
            values.pop()
        real_r1 = r0 + max(len(values), 1) - 1
        out: dict[str, Any] = {"range": a1_text(sheet.title, r0, c0, real_r1 if values else r1 if ref.r1 is not None
                                               else r0, c1), "majorDimension": "ROWS"}
        if values:
            out["values"] = values
        return out

    def _values_get(self, args, payload, rng) -> dict:
        return self._read(rng, args)

    def _values_batchGet(self, args, payload, rng) -> dict:
        ranges = args.getlist("ranges")
        if not ranges:
            raise ApiError(400, "Must specify at least one range.")
        return {"spreadsheetId": self.spreadsheet_id, "valueRanges": [self._read(r, args) for r in ranges]}

    def _write(self, sheet: Sheet, r: int, c: int, value: Any, option: str) -> None:
        if value is None:
            return  # null skips the cell
        if r >= sheet.rows or c >= sheet.cols:
            raise ApiError(400, f"Range ({sheet.title}!{col_letters(c)}{r + 1}) exceeds grid limits. "
                                f"Max rows: {sheet.rows}, max columns: {sheet.cols}")
        cell = sheet.cell(r, c, create=True)
        if option == "RAW":
            if isinstance(value, str) and value == "":
                cell.value, cell.formula = None, None
            else:
                cell.value, cell.formula = (float(value) if isinstance(value, int) and not isinstance(value, bool)
                                            else value), None
            return
        parsed, formula, implied = user_entered(value, sheet.number_format(r, c))
        if parsed == "" and formula is None:
            parsed = None
        cell.value, cell.formula = parsed, formula
        if implied and not sheet.number_format(r, c):
            cell.number_format = implied

    def _write_block(self, text: str, values: list[list[Any]], option: str) -> dict:
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        ref = self._ref(text)
        sheet = self._sheet_of(ref)
        r0, c0 = ref.r0 or 0, ref.c0 or 0
        anchor = ref.r0 is not None and ref.r0 == ref.r1 and ref.c0 is not None and ref.c0 == ref.c1
        too_tall = ref.r1 is not None and len(values) > ref.r1 - r0 + 1
        too_wide = ref.c1 is not None and any(len(row) > ref.c1 - c0 + 1 for row in values)
        if not anchor and (too_tall or too_wide):
            raise ApiError(400, f"Requested writing within range [{text}], but tried writing to row "
                                f"[{r0 + len(values)}]")
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                self._write(sheet, r0 + i, c0 + j, value, option)
        width = max((len(r) for r in values), default=0)
        return {"spreadsheetId": self.spreadsheet_id,
                "updatedRange": a1_text(sheet.title, r0, c0, r0 + max(len(values), 1) - 1, c0 + max(width, 1) - 1),
                "updatedRows": len(values), "updatedColumns": width,
                "updatedCells": sum(len(r) for r in values)}

    def _values_update(self, args, payload, rng) -> dict:
        return self._write_block(rng, payload.get("values", []), args.get("valueInputOption", ""))

    def _values_batchUpdate(self, args, payload, rng) -> dict:
        option = payload.get("valueInputOption", "")
        responses = [self._write_block(d["range"], d.get("values", []), option) for d in payload.get("data", [])]
        return {"spreadsheetId": self.spreadsheet_id,
                "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
                "totalUpdatedColumns": sum(r["updatedColumns"] for r in responses),
                "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                "totalUpdatedSheets": len({r["updatedRange"].split("!")[0] for r in responses}),
                "responses": responses}

    def _values_append(self, args, payload, rng) -> dict:
        option = args.get("valueInputOption", "")
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        ref = self._ref(rng)
        sheet = self._sheet_of(ref)
        values = payload.get("values", [])
        c0 = ref.c0 or 0
        c1 = ref.c1 if ref.c1 is not None else sheet.cols - 1
        # Table detection: the first run of rows with data in the range's columns, from its first row.
        # Values go to the next row "starting with the first column of the table" (Google's words),
        # which is not the range's first column when the range starts with empty columns.
        start = ref.r0 or 0
        r = start
        while r < len(sheet.grid) and not self._row_has_data(sheet, r, c0, c1):
            r += 1
        table_top = r if r < len(sheet.grid) else None
        while r < len(sheet.grid) and self._row_has_data(sheet, r, c0, c1):
            r += 1
        target = r if table_top is not None else start
        used = [c for row in sheet.grid[table_top:target] for c in range(c0, min(c1 + 1, len(row)))
                if row[c] is not None and not row[c].empty()] if table_top is not None else []
        table_c0, table_c1 = (min(used), max(used)) if used else (c0, c1)
        c0 = table_c0
        if args.get("insertDataOption", "OVERWRITE") == "INSERT_ROWS":
            sheet.grid[target:target] = [[] for _ in values]
            sheet.rows += len(values)
        else:
            sheet.rows = max(sheet.rows, target + len(values))
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                self._write(sheet, target + i, c0 + j, value, option)
        width = max((len(row) for row in values), default=0)
        out: dict[str, Any] = {"spreadsheetId": self.spreadsheet_id, "updates": {
            "spreadsheetId": self.spreadsheet_id,
            "updatedRange": a1_text(sheet.title, target, c0, target + max(len(values), 1) - 1, c0 + max(width, 1) - 1),
            "updatedRows": len(values), "updatedColumns": width, "updatedCells": sum(len(r) for r in values)}}
        if table_top is not None:
            out["tableRange"] = a1_text(sheet.title, table_top, table_c0, target - 1, table_c1)
        return out

    @staticmethod
    def _row_has_data(sheet: Sheet, r: int, c0: int, c1: int) -> bool:
        row = sheet.grid[r]
        return any(row[c] is not None and not row[c].empty() for c in range(c0, min(c1 + 1, len(row))))

    def _clear(self, text: str) -> str:
        ref = self._ref(text)
        sheet = self._sheet_of(ref)
        r0, c0 = ref.r0 or 0, ref.c0 or 0
        r1 = ref.r1 if ref.r1 is not None else len(sheet.grid) - 1
        c1 = ref.c1 if ref.c1 is not None else sheet.cols - 1
        for r in range(r0, min(r1, len(sheet.grid) - 1) + 1):
            for c in range(c0, c1 + 1):
                cell = sheet.cell(r, c)
                if cell is not None:
                    cell.value, cell.formula = None, None
        return a1_text(sheet.title, r0, c0, max(r1, r0), c1)

    def _values_clear(self, args, payload, rng) -> dict:
        return {"spreadsheetId": self.spreadsheet_id, "clearedRange": self._clear(rng)}

    def _values_batchClear(self, args, payload, rng) -> dict:
        return {"spreadsheetId": self.spreadsheet_id, "clearedRanges": [self._clear(r) for r in payload.get("ranges", [])]}
