"""The Google Sheets store: the agency's spreadsheet is the database and the control panel.

People edit the sheet while the service writes to it, and Google allows ~60 requests a
minute, so the store is local-first (the cosmicpython CSV-repository shape):

- a local SQLite journal (a `SqlStore`) keeps the service's own memory: claims, messages
  sent, state, the lead counter, and a replica of every tab that reads are served from;
- `refresh()` (once per scheduler tick) reads every tab in ONE values.batchGet, rebuilds
  the replica when the sheet changed (config is thereby cached between ticks), then
  drains the outbox: queued leads, cell updates and the Activity mirror in ONE
  spreadsheets.batchUpdate;
- a new lead costs ONE values.append (RAW), sent after the local transaction commits and
  within a time budget (the form must answer within a second); if the sheet is slow or
  unreachable the lead stays in the durable outbox (the post answers 202, the owner is
  still notified) and a later drain writes it exactly once;
- rows are found by Lead ID and columns by header text in the latest snapshot, never by
  remembered positions; before anything is appended again the snapshot is searched for
  its Lead ID, because a timed-out append may have landed, and an append whose fate is
  unknown is only sent again from a read taken a grace period later;
- a lead row a person deletes is gone for the service too (it is not written back); a
  column of ours a person renames or deletes keeps the service's own copy of its values
  until `leadrouter init` adds the header back (`leadrouter check` names it).

Several hosts: the journal is per host, so `leadrouter serve`, or web and worker sharing
LEADROUTER_JOURNAL on one host, is the supported shape. Workers on other hosts stand by:
the tick lease lives in a hidden tab of the spreadsheet (`hold_worker_lease`), read with the
tick's one read. See docs/google-sheets.md, "Where to run it".
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator

from pydantic import ValidationError
from sqlalchemy import func, insert, not_, or_, select

from automations.clock import Clock, SystemClock
from automations.config import AgencyConfig, Settings
from automations.events import REASSIGNMENT_EVENTS
from automations.ports import ProducerLoad, Store

from . import cells
from .gsheets_api import SHEETS_API, SheetsApi, SheetsUnavailable
from .dashboard import TAB_NAME as DASHBOARD_TAB
from .gsheets_layout import (
    LEASE_LABEL, LEASE_RANGE, LEASE_TAB, SHEET_MISSING_COLUMNS, SHEET_TIME_ZONE, Codec, Headers, col_letters,
    dashboard_requests, format_requests, quote_tab,
)
from .models import Activity, Lead, activity_not_in, canonical_lead_changes
from .outbox import Op, Outbox
from .sql_store import SqlStore, _decode, _encode, activity_t
from .tabs import ACTIVITY, CONFIG_TABS, LEADS, SETTINGS, TABS, snake

log = logging.getLogger("leadrouter.sheets")

LAYOUT = "sheets_layout"
CONFIG_VERSION = "sheets_config_version"
DIGESTS = "sheets_digests"  # {tab: digest of the rows last copied from the sheet}
MIRRORED = "sheets_activity_mirrored"
UNCERTAIN = "sheets_activity_uncertain"
IMPORTED = "sheets_activity_imported"  # [[first, last], ...] journal rows copied from the sheet: not mirrored back
REFRESHED_AT = "sheets_refreshed_at"
APPLIED = "sheets_applied_epoch"  # the newest read of the sheet copied into the replica
DRAIN_LEASE = "sheets_drain_lease"  # wall-clock expiry: one drainer at a time across processes
LEAD_COUNTER = "lead_counter"  # SqlStore.next_lead_id's counter
LEASE_SECONDS = 120.0
MIRROR_BATCH = 500
STALE_SECONDS = 300
FRESH_HEADERS_SECONDS = 5.0
HOT_BUDGET = 0.8  # seconds the form's request may spend on the sheet, retry included
UNCERTAIN_GRACE = 60.0  # an append that may have landed is sent again only from a read this much later
WEB_REFRESH_SECONDS = 60.0  # a process whose journal nobody refreshes reads the sheet itself this often
METADATA_SECONDS = 600.0  # the spreadsheet's time zone and tabs are re-read this often
METADATA_AT = "sheets_metadata_at"  # when (store clock) they were last read
LEASE_SETTLE = 2.0  # between writing a claim on the tick lease and reading who won
HISTORY = 5  # earlier Leads header rows remembered, to recognise rows written under them
IDENTITY = ("received_at", "first_name", "last_name", "email", "phone", "zip", "insurance_type", "assigned_to")
SERVICE_ID = re.compile(r"^L-(\d+)$")


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


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, default=str, sort_keys=True).encode()).hexdigest()


def _lead_number(lead_id: str) -> int:
    digits = re.sub(r"\D", "", lead_id)
    return int(digits) if digits else 0


def _cell(row: list[Any], i: int | None) -> Any:
    return row[i] if i is not None and i < len(row) else ""


def _same(a: Any, b: Any) -> bool:
    """Two cell values read back from the sheet (numbers compared as numbers)."""
    if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) < 1e-6
    return str(a if a is not None else "").strip() == str(b if b is not None else "").strip()


def _norm_cell(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(float(value), 6)
    return "" if value is None else str(value)


@dataclass
class _TickLease:
    """What this process knows of the tick lease in the sheet."""
    holder: str = ""
    until: datetime | None = None
    seen_at: float = 0.0  # time.monotonic() of the read it comes from
    mine: str = ""  # the holder this process confirmed (a worker's name), and until when
    mine_until: datetime | None = None
    pending_until: datetime | None = None  # a claim or renewal on its way to the sheet
    standby_logged: str = ""


class GSheetsStore(Store):
    def __init__(self, api: SheetsApi, journal: SqlStore, *, hot_attempts: int = 2, hot_budget: float = HOT_BUDGET,
                 clock: Clock | None = None, uncertain_grace: float = UNCERTAIN_GRACE,
                 web_refresh_seconds: float = WEB_REFRESH_SECONDS, lease_settle: float = LEASE_SETTLE) -> None:
        self.api = api
        self.local = journal
        self.outbox = Outbox(journal)
        self.hot_attempts = hot_attempts
        self.hot_budget = hot_budget
        self.clock = clock or SystemClock()  # for the grace period of uncertain appends, the metadata re-read
        self.uncertain_grace = uncertain_grace
        self.web_refresh_seconds = web_refresh_seconds
        self.lease_settle = lease_settle
        self._local = threading.local()
        self._config: tuple[tuple[str, str], AgencyConfig] | None = None
        self._checked = False
        self._headers_read_at = 0.0  # time.monotonic() of the last read of every header row
        self._refreshing = threading.Lock()  # one refresh at a time in this process
        self._saved_layout: str | None = None
        self._misplaced: dict[str, int] = {}  # lead id -> row written under an old header layout
        self._warned: set[str] = set()  # log lines said once per process
        self._lease = _TickLease()
        self._background: threading.Thread | None = None
        self._background_at = 0.0  # when (store clock) this process last read the sheet on its own
        self._freshness_checked_at = 0.0
        self._worker = False
        self.local.init()  # local tables only; the sheet is touched by init() and refresh()
        self.outbox.create()

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, *args)

    # ---- structure ------------------------------------------------------------------------
    def init(self) -> None:
        """Create missing tabs and headers and format them; keeps people's data and extra columns.

        Also sets the spreadsheet's own time zone to Settings' Time Zone (the sheet shows times
        and evaluates TODAY() and NOW() in it; times already in Leads and Activity are converted)
        and recalculation to every minute, so the Dashboard's NOW()-based figures stay current.
        A column of ours that people renamed or deleted is added back at the end, filled from
        the service's copy.
        """
        meta = self.api.metadata()
        sheets = {s["properties"]["title"]: s for s in meta.get("sheets", [])}
        present = [t for t in TABS if t in sheets]
        whole = [t for t in (SETTINGS.name, LEADS.name, ACTIVITY.name) if t in sheets]
        blocks = self.api.batch_get([f"{quote_tab(t)}!1:1" for t in present] + [quote_tab(t) for t in whole]) \
            if present else []
        header_rows, contents = blocks[:len(present)], dict(zip(whole, blocks[len(present):]))
        current = {t: Headers.of(rows[0] if rows else []) for t, rows in zip(present, header_rows)}
        used = {s["properties"]["sheetId"] for s in sheets.values()}
        properties = meta.get("properties", {})
        old_zone = properties.get("timeZone", "UTC")
        zone = self._settings_zone(contents.get(SETTINGS.name), current.get(SETTINGS.name), Codec(old_zone))
        requests: list[dict[str, Any]] = []
        if zone != old_zone or properties.get("autoRecalc") != "MINUTE":
            requests.append({"updateSpreadsheetProperties": {"properties": {"timeZone": zone, "autoRecalc": "MINUTE"},
                                                             "fields": "timeZone,autoRecalc"}})
        layout = Layout(zone, {})
        for tab in TABS.values():
            if tab.name in sheets:
                props = sheets[tab.name]["properties"]
                sheet_id, headers = props["sheetId"], current[tab.name]
                missing = headers.missing(tab)
                if tab.key_column and len(contents.get(tab.name, [])) > 1 and \
                        any(c.header == tab.key_column for c in missing):
                    # an empty key column would make every row unknown: the old one must be renamed back
                    log.error("%s tab: no %r column, but rows; rename that column back to %r (not added)",
                              tab.name, tab.key_column, tab.key_column)
                    missing = [c for c in missing if c.header != tab.key_column]
                width = len(headers.cells)
                short = width + len(missing) - props.get("gridProperties", {}).get("columnCount", 26)
                if short > 0:
                    requests.append({"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS", "length": short}})
                if missing and headers.cells:
                    log.warning("%s tab: column(s) %s were missing (renamed or deleted?); added back at the end",
                                tab.name, ", ".join(repr(c.header) for c in missing))
            else:
                sheet_id = max(used | {0}) + 1
                used.add(sheet_id)
                headers, missing, width = Headers(()), list(tab.columns), 0
                requests.append({"addSheet": {"properties": {
                    "sheetId": sheet_id, "title": tab.name,
                    "gridProperties": {"rowCount": 1000, "columnCount": max(26, len(tab.columns))}}}})
            if missing:
                requests.append({"updateCells": {
                    "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": width},
                    "rows": [{"values": [{"userEnteredValue": {"stringValue": c.header}} for c in missing]}],
                    "fields": "userEnteredValue"}})
            final = Headers(headers.cells + tuple(c.header for c in missing))
            layout.sheet_ids[tab.name] = sheet_id
            layout.headers[tab.name] = final
            if tab.name in contents:
                requests += self._retimed(tab, sheet_id, contents[tab.name], headers, Codec(old_zone), Codec(zone))
            if tab is LEADS and missing and headers.index(LEADS.column("lead_id")) is not None:
                requests += self._refilled(sheet_id, contents.get(LEADS.name, []), headers, final, missing,
                                           Codec(zone))
            requests += format_requests(tab, sheet_id, final.positions(tab),
                                        sheets.get(tab.name, {}).get("protectedRanges", []))
        if LEASE_TAB in sheets:
            layout.sheet_ids[LEASE_TAB] = sheets[LEASE_TAB]["properties"]["sheetId"]
        else:
            layout.sheet_ids[LEASE_TAB] = max(used | {0}) + 1
            used.add(layout.sheet_ids[LEASE_TAB])
            requests.append(self._lease_tab_request(layout.sheet_ids[LEASE_TAB]))
        requests += dashboard_requests(sheets.get(DASHBOARD_TAB), max(used | {0}) + 1,
                                       {t: list(h.cells) for t, h in layout.headers.items()})
        self.api.batch_update(requests, idempotent=False)
        if zone != old_zone:
            log.info("spreadsheet time zone set to %s (Settings: Time Zone); it was %s", zone, old_zone)
        self._save_layout(layout)
        self.local.set_state(METADATA_AT, str(self._now()))
        self.refresh()

    @staticmethod
    def _settings_zone(rows: list[list[Any]] | None, headers: Headers | None, codec: Codec) -> str:
        """Settings' Time Zone as the service reads it (Settings.tz: 'Pacific' is America/Los_Angeles;
        an unreadable one is the default, as `leadrouter check` says)."""
        values: dict[str, str] = {}
        if rows and headers is not None:
            positions = headers.positions(SETTINGS)
            for row in rows[1:]:
                record = codec.record(SETTINGS, positions, row)
                values[str(record.get("setting", ""))] = str(record.get("value", ""))
        return Settings(values).tz.key

    @staticmethod
    def _retimed(tab, sheet_id: int, rows: list[list[Any]], headers: Headers, old: Codec,
                 new: Codec) -> list[dict[str, Any]]:
        """The date-times of a tab rewritten for a new spreadsheet time zone (same instants)."""
        if old.tz == new.tz or len(rows) < 2:
            return []
        requests = []
        for col in tab.columns:
            i = headers.index(col)
            if col.kind != "datetime" or i is None:
                continue
            values = []
            for row in rows[1:]:
                raw = _cell(row, i)
                if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                    values.append({"userEnteredValue": {"numberValue": new.serial(old.from_cell("datetime", raw))}})
                elif raw in ("", None):
                    values.append({})
                else:
                    values.append({"userEnteredValue": {"stringValue": str(raw)}})
            requests.append({"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": i},
                                             "rows": [{"values": [v]} for v in values],
                                             "fields": "userEnteredValue"}})
        return requests

    def _refilled(self, sheet_id: int, rows: list[list[Any]], before: Headers, after: Headers, missing,
                  codec: Codec) -> list[dict[str, Any]]:
        """The Leads columns init adds back, filled from the service's copy (found by Lead ID)."""
        key = before.index(LEADS.column("lead_id"))
        known = {lead.lead_id: lead.to_row() for lead in self.local.leads()}
        requests = []
        for col in missing:
            i = after.index(col)
            values = [codec.cell_data(col.kind, known.get(str(_cell(row, key)).strip(), {}).get(col.key))
                      for row in rows[1:]]
            if any(values):
                requests.append({"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": i},
                                                 "rows": [{"values": [v]} for v in values],
                                                 "fields": "userEnteredValue"}})
        return requests

    @staticmethod
    def _lease_tab_request(sheet_id: int) -> dict[str, Any]:
        return {"addSheet": {"properties": {"sheetId": sheet_id, "title": LEASE_TAB, "hidden": True,
                                            "gridProperties": {"rowCount": 2, "columnCount": 3}}}}

    def refresh(self, attempts: int | None = None) -> bool:
        """One read of every tab, then the queued writes. False when the sheet was unreachable."""
        done = getattr(self._local, "tick_read", None)
        if done is not None:  # hold_worker_lease has just done this tick's read
            self._local.tick_read = None
            return done
        with self._refreshing:
            return self._refresh(attempts)

    def _refresh(self, attempts: int | None, lease: tuple[str, datetime, float, bool] | None = None) -> bool:
        epoch = self.outbox.begin_epoch()
        try:
            layout = self._layout() or self._load_layout()
            self._reread_metadata(layout)
            titles = [t for t in TABS if t in layout.sheet_ids and t != ACTIVITY.name]
            ranges = [quote_tab(t) for t in titles]
            if ACTIVITY.name in layout.sheet_ids:
                titles.append(ACTIVITY.name)
                ranges.append(f"{quote_tab(ACTIVITY.name)}!1:1")
            if LEASE_TAB in layout.sheet_ids:
                titles.append(LEASE_TAB)
                ranges.append(LEASE_RANGE)
            read_at = self._now()
            try:
                blocks = self.api.batch_get(ranges, attempts=attempts)
            except SheetsUnavailable as exc:
                if exc.code == 400:  # a tab was renamed or deleted: learn the tabs again next time
                    self.local.set_state(LAYOUT, "")
                    self._saved_layout = ""
                raise
        except SheetsUnavailable as exc:
            log.warning("sheet unreachable; working from the local copy (%s)", exc)
            return False
        snapshot = dict(zip(titles, blocks))
        lease_rows = snapshot.pop(LEASE_TAB, None)
        self._headers_read_at = time.monotonic()
        for t, rows in snapshot.items():
            layout.see_headers(t, Headers.of(rows[0] if rows else []))
        self._save_layout(layout)
        self._apply_snapshot(snapshot, layout, epoch)
        self.local.set_state(REFRESHED_AT, str(time.time()))
        extra = self._lease_requests(lease, lease_rows, layout) if lease else []
        if self._take_drain_lease():
            try:
                self._drain(snapshot, layout, read_at, extra)
            finally:
                self.local.set_state(DRAIN_LEASE, "0")
        elif extra:
            self._write_lease(extra)
        return True

    def _reread_metadata(self, layout: Layout) -> None:
        """Every METADATA_SECONDS: the spreadsheet's time zone (the owner may change it) and tabs."""
        last = float(self.local.get_state(METADATA_AT) or 0)
        if self._now() - last < METADATA_SECONDS:
            return
        self.local.set_state(METADATA_AT, str(self._now()))
        try:
            meta = self.api.metadata(attempts=1)
        except SheetsUnavailable as exc:
            log.warning("could not re-read the spreadsheet's properties (%s)", exc)
            return
        zone = meta.get("properties", {}).get("timeZone", layout.time_zone)
        if zone != layout.time_zone:
            log.warning("the spreadsheet's time zone is now %s (was %s)", zone, layout.time_zone)
            layout.time_zone = zone
        layout.sheet_ids = {s["properties"]["title"]: s["properties"]["sheetId"] for s in meta.get("sheets", [])}

    def _take_drain_lease(self) -> bool:
        """Another process (web and worker share the journal) may be draining: then this one doesn't."""
        with self.local.exclusive():
            held_until = float(self.local.get_state(DRAIN_LEASE) or 0)
            if held_until > time.time():
                return False
            self.local.set_state(DRAIN_LEASE, str(time.time() + LEASE_SECONDS))
            return True

    def read_rows(self, tab: str) -> list[dict[str, Any]]:
        self._ensure_loaded()
        return self.local.read_rows(tab)

    def replace_rows(self, tab: str, rows: Iterable[dict[str, Any]]) -> None:
        spec = TABS[tab]
        rows = [{snake(k): v for k, v in row.items()} for row in rows]
        layout = self._layout() or self._load_layout()
        if tab not in layout.sheet_ids:
            raise SheetsUnavailable(f"the sheet has no {tab!r} tab; run `leadrouter init`")
        if time.monotonic() - self._headers_read_at > FRESH_HEADERS_SECONDS or tab not in layout.headers:
            header_rows = self.api.get(f"{quote_tab(tab)}!1:1")  # people may have moved columns since
            layout.see_headers(tab, Headers.of(header_rows[0] if header_rows else []))
        codec, sheet_id = layout.codec, layout.sheet_ids[tab]
        requests = []
        for col in spec.columns:
            i = layout.headers[tab].index(col)
            if i is None:
                continue
            requests.append({"updateCells": {
                "range": {"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": i, "endColumnIndex": i + 1},
                "rows": [{"values": [codec.cell_data(col.kind, row.get(col.key))]} for row in rows],
                "fields": "userEnteredValue"}})
        if requests:
            self.api.batch_update(requests, idempotent=True)
        self._save_layout(layout)
        with self.local.exclusive():
            self.local.replace_rows(tab, rows)
            if spec.config:
                self._bump_config()
            if tab == ACTIVITY.name:  # the tab now holds exactly the journal's rows
                with self.local._conn() as conn:
                    last = conn.execute(select(func.max(activity_t.c.row_id))).scalar()
                self.local.set_state(MIRRORED, str(last or 0))

    # ---- leads ----------------------------------------------------------------------------
    def add_lead(self, lead: Lead) -> None:
        with self.local._tx():
            self.local.add_lead(lead)
            op = self.outbox.put("append", lead.lead_id, lead.to_text_row())
        if getattr(self._local, "depth", 0):
            self._local.queued.append(op)  # sent when the exclusive section has committed
        else:
            self._send_appends([op])

    def get_lead(self, lead_id: str) -> Lead | None:
        self._ensure_loaded()
        return self.local.get_lead(lead_id)

    def update_lead(self, lead_id: str, changes: dict[str, Any]) -> None:
        """Written locally now; sent to the sheet by the next refresh (one call for all updates)."""
        known = {c.key: c for c in LEADS.columns} | {c.header: c for c in LEADS.columns}
        # unknown keys are ignored, as in SQL; the sheet gets the spelling the service reads back
        changes = canonical_lead_changes({known[k].key: v for k, v in changes.items() if k in known})
        text = {k: cells.to_text(known[k].kind, v) for k, v in changes.items()}
        with self.local._tx():
            self.local.update_lead(lead_id, changes)
            self.outbox.put("update", lead_id, text)

    def leads(self, since: datetime | None = None) -> list[Lead]:
        self._ensure_loaded()
        return self.local.leads(since)

    def lead_statuses(self, since: datetime | None = None) -> dict[str, tuple[datetime, str]]:
        self._ensure_loaded()
        return self.local.lead_statuses(since)

    def open_leads(self) -> list[Lead]:
        self._ensure_loaded()
        return self.local.open_leads()

    def find_duplicate(self, phone: str, email: str, since: datetime) -> Lead | None:
        self._ensure_loaded()
        return self.local.find_duplicate(phone, email, since)

    def workload(self, now: datetime, history: bool = True) -> dict[str, ProducerLoad]:
        self._ensure_loaded()
        return self.local.workload(now, history)

    def watched_leads(self, now: datetime | None = None) -> list[Lead]:
        self._ensure_loaded()
        return self.local.watched_leads(now)

    def journal(self, lead_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        return self.local.journal(lead_ids)

    def queued(self, lead_id: str) -> bool:
        return self.outbox.waiting(lead_id, kind="append") > 0

    # ---- refused submissions: kept in the local journal (raw bodies outgrow a sheet's cells) -----
    def add_rejected(self, row, max_rows: int, max_chars: int) -> str:
        return self.local.add_rejected(row, max_rows, max_chars)

    def rejected(self):
        return self.local.rejected()

    def get_rejected(self, rejected_id: str):
        return self.local.get_rejected(rejected_id)

    def mark_replayed(self, rejected_id: str, lead_id: str) -> None:
        self.local.mark_replayed(rejected_id, lead_id)

    # ---- journal ----------------------------------------------------------------------------
    def add_activity(self, events: Iterable[Activity]) -> None:
        self.local.add_activity(events)  # mirrored to the Activity tab in batches by refresh()

    def claim(self, event: Activity) -> bool:
        return self.local.claim(event)

    def activity(self, lead_id: str | None = None) -> list[Activity]:
        return self.local.activity(lead_id)

    def get_state(self, name: str) -> str | None:
        return self.local.get_state(name)

    def set_state(self, name: str, value: str) -> None:
        self.local.set_state(name, value)

    def next_lead_id(self) -> str:
        return self.local.next_lead_id()  # never below an ID in the sheet: see _rebuild_leads

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            self._local.queued = []
        self._local.depth = depth + 1
        try:
            with self.local.exclusive():
                yield
        except BaseException:
            if depth == 0:
                self._local.queued = []
            raise
        finally:
            self._local.depth = depth
        if depth == 0 and self._local.queued:
            ops, self._local.queued = self._local.queued, []
            self._send_appends(ops)

    def config(self) -> AgencyConfig:
        """The config tabs, plus what the store knows of the spreadsheet itself (for `check`)."""
        self._ensure_loaded()
        version = (self.local.get_state(CONFIG_VERSION) or "0", self._saved_layout or "")
        cached = self._config
        if cached is not None and cached[0] == version:
            return cached[1]
        config = super().config()
        layout = self._layout()
        if layout is not None:
            facts = {SHEET_TIME_ZONE: layout.time_zone, SHEET_MISSING_COLUMNS: " | ".join(
                f"{t}: {', '.join(c.header for c in layout.headers[t].missing(TABS[t]))}"
                for t in TABS if t in layout.headers and layout.headers[t].missing(TABS[t]))}
            config = replace(config, settings=Settings({**config.settings.values, **facts}))
        self._config = (version, config)
        return config

    def close(self) -> None:
        self.settle()
        self.api.close()
        self.local.close()

    def settle(self, timeout: float = 30.0) -> None:
        """Wait for a read of the sheet this process started in the background (shutdown, tests)."""
        thread = self._background
        if thread is not None:
            thread.join(timeout)

    # ---- the tick lease across hosts -------------------------------------------------------------
    def hold_worker_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        """Only one worker ticks per spreadsheet, wherever it runs: the lease is in a hidden tab.

        Its cell is read with the tick's one read (that read then serves the tick's refresh) and
        renewed in the tick's batched write once half of it is used up. A free or expired lease
        is claimed, and a second read LEASE_SETTLE seconds later says who won if two workers
        claimed at once. The new holder first copies the Activity rows the sheet has into its
        journal, so that what an earlier holder sent is not sent again. While the sheet cannot be
        read, the holder carries on until its lease runs out; the others stand by, reading the
        sheet only every half lease.
        """
        state = self._lease
        self._local.tick_read = None
        self._worker = True  # a worker reads the sheet with its ticks (or as a standby): see _keep_fresh
        if state.mine != holder and state.holder not in ("", holder) and state.until and state.until > now \
                and time.monotonic() - state.seen_at < seconds / 2:
            return False  # standing by; the next look at the sheet is not due yet
        with self._refreshing:
            ok = self._refresh(None, lease=(holder, now, seconds, False))
        if not ok:
            self._local.tick_read = False  # the tick carries on from the local copy without a second try
            return state.mine == holder and state.mine_until is not None and state.mine_until > now
        live = state.until is not None and state.until > now
        if state.mine == holder and state.holder == holder and live:
            self._local.tick_read = True  # run_tick's refresh() is this read
            return True
        if state.holder not in ("", holder) and live:
            if state.standby_logged != state.holder:
                state.standby_logged = state.holder
                log.warning("standing by: worker %s holds the tick lease in the spreadsheet until %s; this "
                            "worker takes over when it stops (one worker per spreadsheet: docs/google-sheets.md)",
                            state.holder, state.until.isoformat(timespec="seconds"))
            return False
        return self._confirm_claim(holder, now)

    def _confirm_claim(self, holder: str, now: datetime) -> bool:
        """After a claim: let a rival's claim land, read the cell again, and if we won, copy the
        earlier holder's Activity rows into the journal before ticking."""
        self.api.sleep(self.lease_settle)
        try:
            current, until = self._parse_lease(self.api.get(LEASE_RANGE))
        except SheetsUnavailable as exc:
            log.warning("could not confirm the tick lease (%s); trying again next tick", exc)
            return False
        state = self._lease
        state.holder, state.until, state.seen_at = current, until, time.monotonic()
        if current != holder or until is None or until <= now:
            return False
        layout = self._layout()
        try:
            copied = self._import_activity(layout) if layout is not None else 0
        except SheetsUnavailable as exc:
            log.warning("could not read the Activity tab before taking over (%s); trying again next tick", exc)
            return False
        state.mine, state.mine_until, state.standby_logged = holder, until, ""
        log.info("this worker (%s) holds the tick lease in the spreadsheet until %s%s", holder,
                 until.isoformat(timespec="seconds"),
                 f"; {copied} Activity row(s) of an earlier worker copied into the journal" if copied else "")
        self._local.tick_read = True
        return True

    def drop_worker_lease(self, holder: str, now: datetime) -> None:
        """A worker that stops writes what it owes the sheet (its last Activity rows) and lets go."""
        if holder not in (self._lease.mine, self._lease.holder):
            return
        with self._refreshing:
            self._refresh(None, lease=(holder, now, 0.0, True))
        if self._lease.mine == holder:
            self._lease.mine, self._lease.mine_until = "", None

    @staticmethod
    def _parse_lease(rows: list[list[Any]] | None) -> tuple[str, datetime | None]:
        row = rows[0] if rows else []
        holder = str(_cell(row, 1)).strip()
        return holder, cells.parse_datetime(str(_cell(row, 2)).strip()) if holder else None

    def _lease_requests(self, lease: tuple[str, datetime, float, bool], rows: list[list[Any]] | None,
                        layout: Layout) -> list[dict[str, Any]]:
        """The lease cell write this refresh carries: a claim, a renewal, a release, or nothing."""
        holder, now, seconds, leaving = lease
        current, until = self._parse_lease(rows)
        state = self._lease
        state.holder, state.until, state.seen_at, state.pending_until = current, until, time.monotonic(), None
        if leaving:
            if current != holder:
                return []
            state.holder, state.until = "", None
            return self._lease_cells(layout, "", None)
        live = until is not None and until > now
        if current not in ("", holder) and live:
            if state.mine == holder:
                log.warning("the tick lease in the spreadsheet now names %s; this worker stands by", current)
                state.mine, state.mine_until = "", None
            return []
        if current == holder and live:
            if state.mine != holder or until - now > timedelta(seconds=seconds / 2):
                return []  # our claim, still to be confirmed; or no renewal due yet
            state.mine_until = until  # until the renewal lands, the expiry in the sheet holds
        state.pending_until = now + timedelta(seconds=seconds)  # a renewal, or a claim on a free lease
        return self._lease_cells(layout, holder, state.pending_until)

    def _lease_cells(self, layout: Layout, holder: str, until: datetime | None) -> list[dict[str, Any]]:
        requests = []
        if LEASE_TAB not in layout.sheet_ids:  # a sheet set up before the lease existed
            layout.sheet_ids[LEASE_TAB] = max(layout.sheet_ids.values(), default=0) + 1
            requests.append(self._lease_tab_request(layout.sheet_ids[LEASE_TAB]))
            self._save_layout(layout)
        values = [LEASE_LABEL, holder, until.isoformat() if until else ""]
        requests.append({"updateCells": {"start": {"sheetId": layout.sheet_ids[LEASE_TAB], "rowIndex": 0,
                                                   "columnIndex": 0},
                                         "rows": [{"values": [{"userEnteredValue": {"stringValue": v}} if v else {}
                                                              for v in values]}],
                                         "fields": "userEnteredValue"}})
        return requests

    def _lease_written(self) -> None:
        state = self._lease
        if state.pending_until is not None and state.mine and state.holder == state.mine:
            state.mine_until = state.pending_until  # a renewal landed
        state.pending_until = None

    def _write_lease(self, requests: list[dict[str, Any]]) -> None:
        """The lease cell alone (when no drain runs in this process to carry it)."""
        try:
            self.api.batch_update(requests, idempotent=True)
        except SheetsUnavailable as exc:
            log.warning("could not write the tick lease (%s)", exc)
            if exc.code == 400:
                self.local.set_state(LAYOUT, "")
                self._saved_layout = ""
            return
        self._lease_written()

    def _import_activity(self, layout: Layout) -> int:
        """Keyed and reassignment rows of the Activity tab this journal lacks (another host's)."""
        if ACTIVITY.name not in layout.sheet_ids or not layout.positions(ACTIVITY.name):
            return 0
        rows = self.api.get(quote_tab(ACTIVITY.name))
        positions, codec = layout.positions(ACTIVITY.name), layout.codec
        found = []
        for row in rows[1:]:
            record = codec.record(ACTIVITY, positions, row)
            if not str(record.get("key") or "").strip() and record.get("event") not in REASSIGNMENT_EVENTS:
                continue
            try:
                found.append(Activity.from_row(record))
            except ValidationError:
                continue
        if not found:
            return 0
        with self.local.exclusive(), self.local._conn() as conn:
            new = activity_not_in(self.local.activity(), found)
            if not new:
                return 0
            first = (conn.execute(select(func.max(activity_t.c.row_id))).scalar() or 0) + 1
            conn.execute(insert(activity_t), [_encode(ACTIVITY, e.to_row()) for e in new])
            last = conn.execute(select(func.max(activity_t.c.row_id))).scalar()
            ranges = json.loads(self.local.get_state(IMPORTED) or "[]") + [[first, last]]
            self.local.set_state(IMPORTED, json.dumps(ranges))
        return len(new)

    # ---- reading the sheet into the replica ----------------------------------------------------
    def _layout(self) -> Layout | None:
        text = self.local.get_state(LAYOUT)
        self._saved_layout = text
        return Layout.loads(text) if text else None

    def _save_layout(self, layout: Layout) -> None:
        text = layout.dumps()
        if text != self._saved_layout:
            self.local.set_state(LAYOUT, text)
            self._saved_layout = text

    def _load_layout(self) -> Layout:
        meta = self.api.metadata()
        layout = Layout(meta.get("properties", {}).get("timeZone", "UTC"),
                        {s["properties"]["title"]: s["properties"]["sheetId"] for s in meta.get("sheets", [])})
        present = [t for t in TABS if t in layout.sheet_ids]
        for title, rows in zip(present, self.api.batch_get([f"{quote_tab(t)}!1:1" for t in present]) if present else []):
            layout.headers[title] = Headers.of(rows[0] if rows else [])
        self._save_layout(layout)
        self.local.set_state(METADATA_AT, str(self._now()))
        return layout

    def _ensure_loaded(self) -> None:
        """A process that finds no recent copy of the sheet reads it once before answering; one
        whose journal no worker keeps fresh (a web process on its own) re-reads it now and then."""
        if self._checked:
            self._keep_fresh()
            return
        last = self.local.get_state(REFRESHED_AT)
        if last is None:
            if not self.refresh():  # no copy of the sheet at all: better a 503 than routing on nothing
                raise SheetsUnavailable("the sheet has never been read and cannot be reached now")
        elif time.time() - float(last) > STALE_SECONDS:
            self.refresh(attempts=1)  # a local copy exists: do not keep a caller waiting on backoff
        self._checked = True

    def _keep_fresh(self) -> None:
        """At most every WEB_REFRESH_SECONDS, and only when no worker sharing this journal has read
        the sheet lately: one read (and the queued writes) in the background, never on the request."""
        now = self._now()
        if self._worker or now - self._freshness_checked_at < 5.0:
            return
        self._freshness_checked_at = now
        last = float(self.local.get_state(REFRESHED_AT) or 0)
        if time.time() - last < self.web_refresh_seconds:
            return  # a worker sharing this journal read the sheet lately
        if now - self._background_at < max(self.web_refresh_seconds, 5.0):
            return
        if self._background is not None and self._background.is_alive():
            return
        self._background_at = now
        self._warn_once("self-refresh", "no worker shares this journal (LEADROUTER_JOURNAL): this process reads the "
                        "sheet itself every %g s for config and to write its queued leads", self.web_refresh_seconds)
        self._background = threading.Thread(target=self._refresh_quietly, name="sheets-refresh", daemon=True)
        self._background.start()

    def _refresh_quietly(self) -> None:
        try:
            self.refresh(attempts=1)
        except Exception:  # noqa: BLE001 - a background read must not die loudly; the next one retries
            log.exception("background read of the sheet failed")

    def _bump_config(self) -> None:
        version = int(self.local.get_state(CONFIG_VERSION) or 0) + 1
        self.local.set_state(CONFIG_VERSION, str(version))

    def _apply_snapshot(self, snapshot: dict[str, list[list[Any]]], layout: Layout, epoch: int) -> None:
        codec = layout.codec
        with self.local.exclusive():
            if int(self.local.get_state(APPLIED) or 0) > epoch:
                return  # another process has already applied a newer read of the sheet
            self.local.set_state(APPLIED, str(epoch))
            digests = json.loads(self.local.get_state(DIGESTS) or "{}")
            before = dict(digests)
            changed = False
            for tab in CONFIG_TABS:
                if tab.name not in snapshot:
                    continue
                positions = layout.positions(tab.name)
                records = [codec.record(tab, positions, row) for row in snapshot[tab.name][1:]]
                records = [r for r in records if any(not cells.is_blank(v) for v in r.values())]
                digest = _digest(records)
                if digests.get(tab.name) != digest:
                    self.local.replace_rows(tab.name, records)
                    digests[tab.name] = digest
                    changed = True
            if changed:
                self._bump_config()
            if LEADS.name in snapshot:
                self._rebuild_leads(snapshot[LEADS.name], layout, codec, epoch, digests)
            if digests != before:
                self.local.set_state(DIGESTS, json.dumps(digests))

    def _rebuild_leads(self, rows: list[list[Any]], layout: Layout, codec: Codec, epoch: int,
                       digests: dict[str, str]) -> None:
        positions = layout.positions(LEADS.name)
        if "lead_id" not in positions:
            log.error("the Leads tab has no 'Lead ID' column; run `leadrouter init` to restore it")
            return
        overlay = self.outbox.overlay(epoch)
        digest = _digest([rows, [(op.id, op.state) for op in overlay], layout.leads_history])
        if digests.get(LEADS.name) == digest:
            return
        existing = {lead.lead_id: lead for lead in self.local.leads()}
        misplaced = self._find_misplaced(rows, positions, layout, codec, existing, overlay)
        absent = [c.key for c in LEADS.columns if c.key not in positions]
        if absent:
            self._warn_once(f"absent:{','.join(absent)}", "Leads tab: no %s column (renamed or deleted?); the "
                            "service keeps its own copy of it. `leadrouter init` adds it back",
                            ", ".join(repr(LEADS.column(k).header) for k in absent))
        leads: dict[str, Lead] = {lead_id: existing[lead_id] for lead_id in misplaced}
        for r, row in enumerate(rows[1:], start=1):
            if r in misplaced.values():
                continue
            record = codec.record(LEADS, positions, row)
            lead_id = str(record.get("lead_id") or "").strip()
            if not lead_id or lead_id in leads:
                continue
            record["lead_id"] = lead_id
            known = existing.get(lead_id)
            if known is not None and absent:  # a column the sheet lacks keeps the journal's values
                ours = known.to_row()
                record.update({k: ours.get(k) for k in absent})
            try:
                leads[lead_id] = _keep_exact_times(Lead.from_row(record), known, codec)
            except ValidationError as exc:
                log.warning("lead %s: unreadable row in the sheet (%s); keeping the last good copy",
                            lead_id, exc.errors()[0].get("loc"))
                if known is not None:
                    leads[lead_id] = known
        for op in overlay:  # writes the snapshot may not show yet
            if op.kind == "append" and op.lead_id not in leads:
                leads[op.lead_id] = existing.get(op.lead_id) or Lead.from_row(op.payload)
            elif op.kind == "update" and op.lead_id in leads:
                changes = {k: cells.parse(LEADS.column(k).kind, v) for k, v in op.payload.items()}
                leads[op.lead_id] = leads[op.lead_id].model_copy(update=changes)
        ordered = sorted(leads.values(), key=lambda lead: (lead.received_at, _lead_number(lead.lead_id)))
        self.local.replace_rows(LEADS.name, [lead.to_row() for lead in ordered])
        top = max((int(m.group(1)) for m in (SERVICE_ID.match(i) for i in leads) if m), default=0)
        if top > int(self.local.get_state(LEAD_COUNTER) or 1000):  # e.g. a new journal on a new machine
            self.local.set_state(LEAD_COUNTER, str(top))
        digests[LEADS.name] = digest

    def _find_misplaced(self, rows: list[list[Any]], positions: dict[str, int], layout: Layout, codec: Codec,
                        existing: dict[str, Lead], overlay: list[Op]) -> dict[str, int]:
        """Rows appended just as someone moved the columns: written under an earlier header row.

        A lead of ours missing from the Lead ID column was either deleted by a person (then it
        stays deleted) or appended under yesterday's headers. Such a row holds no known Lead ID
        in today's Lead ID column, and read under one of the header rows we wrote with lately it
        carries the lead's ID and at least three more of its fields as the journal has them. Only
        then is it rewritten under today's headers by the next drain: a row with another known
        Lead ID is never touched (people type IDs anywhere, e.g. in a 'Duplicate Of' column).
        """
        key = positions["lead_id"]
        pending = {op.lead_id for op in overlay if op.kind == "append"}
        in_column = {str(_cell(row, key)).strip() for row in rows[1:]}
        missing = {lead_id for lead_id in existing if lead_id not in in_column and lead_id not in pending}
        found: dict[str, int] = {}
        if missing and layout.leads_history:
            known = set(existing) | pending
            earlier = [Headers(h).positions(LEADS) for h in layout.leads_history]
            for r, row in enumerate(rows[1:], start=1):
                if str(_cell(row, key)).strip() in known:
                    continue
                for old in earlier:
                    lead_id = str(_cell(row, old.get("lead_id"))).strip()
                    if lead_id in missing and lead_id not in found and \
                            _fields_match(row, old, existing[lead_id], codec) >= 3:
                        found[lead_id] = r
                        break
        self._misplaced = dict(found)
        if found:
            log.warning("%d lead row(s) were written while columns moved; rewriting them", len(found))
        return found

    # ---- writing queued work -----------------------------------------------------------------
    def _lead_row(self, op: Op) -> Lead:
        return self.local.get_lead(op.lead_id) or Lead.from_row(op.payload)

    def _send_appends(self, op_ids: list[int]) -> None:
        """The hot path: this request's new lead(s) in one values.append, within `hot_budget`
        seconds; on failure they wait in the outbox (one that may still be landing, with the time)."""
        ops = self.outbox.claim(op_ids)
        if not ops:
            return
        try:
            layout = self._layout() or self._load_layout()
            positions = layout.positions(LEADS.name)
            if "lead_id" not in positions:
                raise SheetsUnavailable("the Leads tab has no 'Lead ID' column; run `leadrouter init`")
            # Google writes an appended row from the table's first column: start the range and
            # the values there (a person may have inserted an empty column A)
            first = min(layout.headers[LEADS.name].first_used(), min(positions.values()))
            rows = [layout.codec.row(LEADS, positions, self._lead_row(op).to_row())[first:] for op in ops]
            last = col_letters(max(positions.values()))
            self.api.append(f"{quote_tab(LEADS.name)}!{col_letters(first)}1:{last}", rows,
                            attempts=self.hot_attempts, budget=self.hot_budget)
        except SheetsUnavailable as exc:
            log.warning("%d lead(s) kept in the local outbox until the sheet is back: %s", len(ops), exc)
            self.outbox.release(ops, uncertain_at=self._now() if exc.in_flight else None)
            return
        except Exception:  # noqa: BLE001 - the lead is safe locally; the form must still get its answer
            log.exception("writing %d lead(s) to the sheet failed; kept in the local outbox", len(ops))
            self.outbox.release(ops, uncertain_at=self._now())
            return
        self.outbox.done(ops)

    def _drain(self, snapshot: dict[str, list[list[Any]]], layout: Layout, read_at: float,
               extra: list[dict[str, Any]] | None = None) -> None:
        """Queued leads, cell updates, repairs, the Activity mirror (and the tick lease), in one batchUpdate."""
        positions = layout.positions(LEADS.name)
        codec = layout.codec
        lead_rows = snapshot.get(LEADS.name, [])
        rows_by_id: dict[str, int] = {}
        repeats: list[tuple[str, int]] = []
        key = positions.get("lead_id")
        for r, row in enumerate(lead_rows[1:], start=1):
            lead_id = str(row[key]).strip() if key is not None and key < len(row) else ""
            if lead_id and lead_id in rows_by_id:
                repeats.append((lead_id, r))
            elif lead_id:
                rows_by_id[lead_id] = r
        ops = self.outbox.claim() if key is not None else []
        landed = [op for op in ops if op.kind == "append" and op.lead_id in rows_by_id]
        unseen = [op for op in ops if op.kind == "append" and op.lead_id not in rows_by_id]
        # an append that may still land is sent again only from a read taken a grace period later
        waiting = [op for op in unseen
                   if op.uncertain_at is not None and read_at < op.uncertain_at + self.uncertain_grace]
        to_append = [op for op in unseen if op not in waiting]
        appending = {op.lead_id for op in to_append}
        held = {op.lead_id for op in waiting}
        updates, gone, later = [], [], []
        cell_updates: dict[tuple[int, int], dict[str, Any]] = {}
        for op in (op for op in ops if op.kind == "update"):
            if op.lead_id in held:
                later.append(op)  # its row may yet appear: apply the change to it then
                continue
            if op.lead_id in appending or op.lead_id in self._misplaced:
                updates.append(op)  # the appended or rewritten row already carries the change
                continue
            row = rows_by_id.get(op.lead_id)
            if row is None:
                gone.append(op)
                continue
            updates.append(op)
            for k, value in op.payload.items():
                col = positions.get(k)
                if col is not None:
                    kind = LEADS.column(k).kind
                    cell_updates[(row, col)] = codec.cell_data(kind, cells.parse(kind, value))
        self.outbox.release(waiting + later)
        if waiting:
            log.info("%d lead(s) whose append timed out are looked for again before they are re-sent", len(waiting))
        requests: list[dict[str, Any]] = []
        misplaced = {lead_id: r for lead_id, r in self._misplaced.items() if self.local.get_lead(lead_id)}
        for lead_id, r in misplaced.items():
            row = lead_rows[r] if r < len(lead_rows) else []
            width = max(max(positions.values()) + 1, len(row))
            requests.append({"updateCells": {
                "start": {"sheetId": layout.sheet_ids[LEADS.name], "rowIndex": r, "columnIndex": 0},
                "rows": [self._cells(LEADS, positions, width, codec, self.local.get_lead(lead_id).to_row())],
                "fields": "userEnteredValue"}})
        if to_append:
            width = max(positions.values()) + 1
            requests.append({"appendCells": {"sheetId": layout.sheet_ids[LEADS.name], "fields": "userEnteredValue",
                                             "rows": [self._cells(LEADS, positions, width, codec,
                                                                  self._lead_row(op).to_row()) for op in to_append]}})
        for (r, c), data in sorted(cell_updates.items()):
            requests.append({"updateCells": {"start": {"sheetId": layout.sheet_ids[LEADS.name], "rowIndex": r,
                                                       "columnIndex": c},
                                             "rows": [{"values": [data]}], "fields": "userEnteredValue"}})
        mirror = self._activity_batch(layout)
        if mirror:
            a_pos = layout.positions(ACTIVITY.name)
            width = max(a_pos.values()) + 1
            requests.append({"appendCells": {"sheetId": layout.sheet_ids[ACTIVITY.name], "fields": "userEnteredValue",
                                             "rows": [self._cells(ACTIVITY, a_pos, width, codec, event.to_row())
                                                      for _, event in mirror]}})
        requests += extra or []
        # last, bottom-up, so that no row index above (all from this same read) moves
        requests += self._repeat_deletions(lead_rows, rows_by_id, repeats, positions, layout)
        self.outbox.done(landed, note="found in the sheet")
        if gone:
            log.warning("%d update(s) skipped: their lead rows were deleted from the sheet", len(gone))
            self.outbox.done(gone, note="row deleted in the sheet")
        if not requests:
            self.outbox.done(updates)
            return
        try:
            self.api.batch_update(requests, idempotent=False)
        except SheetsUnavailable as exc:
            log.warning("sheet write failed; %d write(s) stay queued: %s", len(to_append) + len(updates), exc)
            self.outbox.release(to_append + updates, uncertain_at=self._now() if exc.in_flight else None)
            if exc.code == 400:  # e.g. a tab was deleted: learn the tabs again at the next refresh
                self.local.set_state(LAYOUT, "")
                self._saved_layout = ""
            if mirror and exc.uncertain:
                self.local.set_state(UNCERTAIN, f"{mirror[0][0]}:{mirror[-1][0]}")
            return
        self.outbox.done(to_append + updates)
        self._misplaced = {}
        if extra:
            self._lease_written()
        if mirror:
            self.local.set_state(MIRRORED, str(mirror[-1][0]))

    def _repeat_deletions(self, rows: list[list[Any]], first_row: dict[str, int], repeats: list[tuple[str, int]],
                          positions: dict[str, int], layout: Layout) -> list[dict[str, Any]]:
        """A Lead ID in a second row (an append that landed twice, a pasted copy): the later copy
        is deleted when it is the same lead and holds nothing of people's that the first lacks."""
        ours = {i for k, i in positions.items() if LEADS.column(k).editor == "service"}
        doomed = []
        for lead_id, r in repeats:
            first, later = rows[first_row[lead_id]], rows[r]
            same_lead = all(_same(_cell(first, positions.get(k)), _cell(later, positions.get(k)))
                            for k in ("received_at", "email", "phone") if k in positions)
            peoples = all(_cell(later, i) in ("", None) or _same(_cell(later, i), _cell(first, i))
                          for i in range(len(later)) if i not in ours)
            if same_lead and peoples:
                doomed.append(r)
            else:
                self._warn_once(f"repeat:{lead_id}:{r}", "Leads tab: %s is in rows %d and %d with different details; "
                                "kept both (delete the wrong one; two web hosts with separate journals?)",
                                lead_id, first_row[lead_id] + 1, r + 1)
        if doomed:
            log.warning("%d repeated lead row(s) removed from the Leads tab", len(doomed))
        sheet_id = layout.sheet_ids[LEADS.name]
        return [{"deleteDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": r,
                                               "endIndex": r + 1}}} for r in sorted(doomed, reverse=True)]

    @staticmethod
    def _cells(tab, positions: dict[str, int], width: int, codec: Codec, values: dict[str, Any]) -> dict[str, Any]:
        row: list[dict[str, Any]] = [{} for _ in range(width)]
        for k, i in positions.items():
            row[i] = codec.cell_data(tab.column(k).kind, values.get(k))
        return {"values": row}

    def _activity_batch(self, layout: Layout) -> list[tuple[int, Activity]]:
        """Journal rows not yet in the Activity tab. A batch whose answer was lost is looked for first."""
        if ACTIVITY.name not in layout.sheet_ids or not layout.positions(ACTIVITY.name):
            return []
        uncertain = self.local.get_state(UNCERTAIN)
        if uncertain:
            first, last = (int(x) for x in uncertain.split(":"))
            try:
                landed = self._activity_landed(layout, first, last)
            except SheetsUnavailable:
                return []
            if landed:
                self.local.set_state(MIRRORED, str(last))
            self.local.set_state(UNCERTAIN, "")
        mirrored = int(self.local.get_state(MIRRORED) or 0)
        imported = [r for r in json.loads(self.local.get_state(IMPORTED) or "[]") if r[1] > mirrored]
        query = select(activity_t).where(activity_t.c.row_id > mirrored)
        if imported:  # rows copied from the sheet are in it already
            query = query.where(not_(or_(*[activity_t.c.row_id.between(a, b) for a, b in imported])))
        query = query.order_by(activity_t.c.row_id).limit(MIRROR_BATCH)
        with self.local._conn() as conn:
            return [(r.row_id, Activity.from_row(_decode(ACTIVITY, r))) for r in conn.execute(query)]

    def _activity_landed(self, layout: Layout, first: int, last: int) -> bool:
        """Did a batch whose answer was lost reach the Activity tab? Whole rows are compared (Time
        and Key included) and repeats counted: the tab must hold each of the batch's rows as often
        as the journal does up to the batch's end, not merely once."""
        codec = layout.codec
        positions = layout.positions(ACTIVITY.name)

        def as_cells(values: dict[str, Any]) -> tuple:
            return tuple(_norm_cell(codec.to_cell(c.kind, values.get(c.key))) for c in ACTIVITY.columns
                         if c.key in positions)
        query = select(activity_t).where(activity_t.c.row_id <= last).order_by(activity_t.c.row_id)
        with self.local._conn() as conn:
            journal = [(r.row_id, as_cells(Activity.from_row(_decode(ACTIVITY, r)).to_row()))
                       for r in conn.execute(query)]
        rows = self.api.get(quote_tab(ACTIVITY.name))
        in_tab = Counter(tuple(_norm_cell(_cell(row, positions[c.key])) for c in ACTIVITY.columns
                               if c.key in positions) for row in rows[1:])
        wanted = Counter(cells_ for _, cells_ in journal)
        batch = {cells_ for row_id, cells_ in journal if row_id >= first}
        return all(in_tab[cells_] >= wanted[cells_] for cells_ in batch)


DATETIME_KEYS = [c.key for c in LEADS.columns if c.kind == "datetime"]


def _fields_match(row: list[Any], positions: dict[str, int], lead: Lead, codec: Codec) -> int:
    """How many of a lead's identifying fields a row holds where `positions` puts them."""
    values = lead.to_row()
    matches = 0
    for k in IDENTITY:
        expected = values.get(k)
        if k in positions and expected not in (None, "") and \
                _same(_cell(row, positions[k]), codec.to_cell(LEADS.column(k).kind, expected)):
            matches += 1
    return matches


def _keep_exact_times(lead: Lead, known: Lead | None, codec: Codec) -> Lead:
    """A sheet holds wall-clock times: 01:30 on the night clocks go back is ambiguous.

    When the sheet shows the same wall-clock time as the copy we wrote, keep our exact value.
    """
    if known is None:
        return lead
    same = {}
    for key in DATETIME_KEYS:
        ours, theirs = getattr(known, key), getattr(lead, key)
        if ours is not None and theirs is not None and ours != theirs and codec.serial(ours) == codec.serial(theirs):
            same[key] = ours
    return lead.model_copy(update=same) if same else lead


def open_gsheets_store(url: str) -> GSheetsStore:
    """gsheets://<spreadsheet-id>, credentials from GOOGLE_APPLICATION_CREDENTIALS.

    LEADROUTER_SHEETS_API overrides the endpoint (emulators, tests); LEADROUTER_JOURNAL names
    the local SQLite journal (default ./leadrouter-journal-<id>.db); LEADROUTER_SHEETS_HOT_BUDGET
    is what a form post may spend on the sheet (seconds, default 0.8).
    """
    spreadsheet_id = url[len("gsheets://"):].strip().strip("/").split("/")[0]
    if not spreadsheet_id:
        raise ValueError("LEADROUTER_STORE=gsheets://<spreadsheet-id>: the spreadsheet id is missing")
    credentials = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", "")
    if not credentials:
        raise ValueError("GOOGLE_APPLICATION_CREDENTIALS must name the service account's JSON key file")
    api = SheetsApi(spreadsheet_id, credentials, api_base=os.environ.get("LEADROUTER_SHEETS_API") or SHEETS_API,
                    timeout=float(os.environ.get("LEADROUTER_SHEETS_TIMEOUT", "10")))
    journal = os.environ.get("LEADROUTER_JOURNAL") or f"leadrouter-journal-{re.sub(r'[^A-Za-z0-9_-]', '', spreadsheet_id)[:24]}.db"
    if not journal.startswith("sqlite"):
        journal = f"sqlite:///{journal}"
    return GSheetsStore(api, SqlStore(journal),
                        hot_budget=float(os.environ.get("LEADROUTER_SHEETS_HOT_BUDGET", str(HOT_BUDGET))))
