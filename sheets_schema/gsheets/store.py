"""The Google Sheets store: the agency's spreadsheet is the database and the control panel.

Above 600 lines because it is the whole Store port for a sheet plus the read-apply-drain cycle
every port method shares; its parts with a life of their own are collaborators it holds: the
tick lease (lease.py), the Leads rows' rebuild and repair (rows.py), the Activity mirror
(activity.py), the outbox of writes (outbox.py).

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

import json
import logging
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, Iterable, Iterator

from automations.clock import Clock, SystemClock
from automations.config import AgencyConfig, Settings
from automations.ports import ProducerLoad, Store

from .. import cells
from ..dashboard import TAB_NAME as DASHBOARD_TAB
from ..models import Activity, Lead, canonical_lead_changes
from ..sql_store import SqlStore
from ..tabs import ACTIVITY, CONFIG_TABS, LEADS, SETTINGS, TABS, snake
from .activity import ActivityMirror
from .burst import Batcher
from .api import SHEETS_API, SheetsApi, SheetsUnavailable
from .layout import (
    LEASE_RANGE, LEASE_TAB, SHEET_MISSING_COLUMNS, SHEET_TIME_ZONE, Codec, Headers, Layout, cell_at,
    dashboard_requests, format_requests, quote_tab, update_cells,
)
from .lease import LEASE_SETTLE, LeaseWrite, SheetLease, lease_tab_request
from .outbox import Op, Outbox
from .placement import Placement
from .rows import LeadRows, digest_of

log = logging.getLogger("leadrouter.sheets")

LAYOUT = "sheets_layout"
CONFIG_VERSION = "sheets_config_version"
DIGESTS = "sheets_digests"  # {tab: digest of the rows last copied from the sheet}
REFRESHED_AT = "sheets_refreshed_at"
APPLIED = "sheets_applied_epoch"  # the newest read of the sheet copied into the replica
WRITTEN = "sheets_written_epochs"  # {tab: epoch of the service's own last replace_rows of it}
DRAIN_LEASE = "sheets_drain_lease"  # wall-clock expiry: one drainer at a time across processes
LEASE_SECONDS = 120.0
STALE_SECONDS = 300
FRESH_HEADERS_SECONDS = 5.0
HOT_BUDGET = 0.8  # seconds the form's request may spend on the sheet, retry included
UNCERTAIN_GRACE = 60.0  # an append that may have landed is sent again only from a read this much later
WEB_REFRESH_SECONDS = 60.0  # a process whose journal nobody refreshes reads the sheet itself this often
METADATA_SECONDS = 600.0  # the spreadsheet's time zone and tabs are re-read this often
METADATA_AT = "sheets_metadata_at"  # when (store clock) they were last read
TICK_WAITS = 0.5  # share of Tick Seconds a tick may spend backing off from 429s and 5xx


class GSheetsStore(Store):
    shared_journal = False  # claims are in a journal per host (issue 14: the tick's minute-0 grace)

    def __init__(self, api: SheetsApi, journal: SqlStore, *, hot_attempts: int = 2, hot_budget: float = HOT_BUDGET,
                 clock: Clock | None = None, uncertain_grace: float = UNCERTAIN_GRACE,
                 web_refresh_seconds: float = WEB_REFRESH_SECONDS, lease_settle: float = LEASE_SETTLE,
                 batching: dict[str, Any] | None = None) -> None:
        self.api = api
        self.local = journal
        self.outbox = Outbox(journal)
        self.hot_attempts = hot_attempts
        self.hot_budget = hot_budget
        self.clock = clock or SystemClock()  # for the grace period of uncertain appends, the metadata re-read
        self.uncertain_grace = uncertain_grace
        self.web_refresh_seconds = web_refresh_seconds
        self._local = threading.local()
        self._config: tuple[tuple[str, str], AgencyConfig] | None = None
        self._checked = False
        self._headers_read_at = 0.0  # time.monotonic() of the last read of every header row
        self._refreshing = threading.Lock()  # one refresh at a time in this process
        self._saved_layout: str | None = None
        self._warned: set[str] = set()  # log lines said once per process
        self.rows = LeadRows(journal, self.outbox, self._warn_once)
        self.activity_mirror = ActivityMirror(journal, api)
        self.placement = Placement(api, journal, self._save_layout)  # where each append landed, repaired at once
        self._appended: set[str] = set()  # lead ids this process's form path appended lately
        self._stale_layout = False  # an append was refused as invalid (400): read the columns again first
        self.batcher = Batcher(self.outbox, api.writes, self._append_ops, **(batching or {}))
        self.lease = SheetLease(api, read=self._read_with_lease, take_over=self._take_over,
                                save_layout=self._save_layout, forget_layout=self._forget_layout, settle=lease_settle)
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
            requests.append(lease_tab_request(layout.sheet_ids[LEASE_TAB]))
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
                raw = cell_at(row, i)
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
            values = [codec.cell_data(col.kind, known.get(str(cell_at(row, key)).strip(), {}).get(col.key))
                      for row in rows[1:]]
            if any(values):
                requests.append({"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": i},
                                                 "rows": [{"values": [v]} for v in values],
                                                 "fields": "userEnteredValue"}})
        return requests

    def refresh(self, attempts: int | None = None) -> bool:
        """One read of every tab, then the queued writes. False when the sheet was unreachable."""
        done = getattr(self._local, "tick_read", None)
        if done is not None:  # hold_worker_lease has just done this tick's read
            self._local.tick_read = None
            return done
        with self._refreshing:
            return self._refresh(attempts)

    def _refresh(self, attempts: int | None, lease: LeaseWrite | None = None) -> bool:
        with self.api.within(self._tick_waits()):
            return self._refresh_within(attempts, lease)

    def _tick_waits(self) -> float:
        """Seconds a tick may spend waiting between retries (429s, 5xx): half its interval, so a
        tick that meets the quota leaves the rest for the next one instead of running into it."""
        cached = self._config
        seconds = cached[1].settings.tick_seconds if cached is not None else 30.0
        return max(1.0, TICK_WAITS * seconds)

    def _refresh_within(self, attempts: int | None, lease: LeaseWrite | None = None) -> bool:
        self.api.keep_token_fresh()  # off the request path: the form's append never fetches a token
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
                    self._forget_layout()
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
        self.placement.rows_seen = len(snapshot.get(LEADS.name, []))
        self._apply_snapshot(snapshot, layout, epoch)
        self.local.set_state(REFRESHED_AT, str(time.time()))
        extra = self.lease.requests(lease, lease_rows, layout) if lease else []
        if self._take_drain_lease():
            try:
                self._drain(snapshot, layout, read_at, extra)
            finally:
                self.local.set_state(DRAIN_LEASE, "0")
        elif extra:
            self.lease.write(extra)
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
            # a read of the sheet started before this write must not put the older rows back
            written = json.loads(self.local.get_state(WRITTEN) or "{}")
            written[tab] = self.outbox.begin_epoch()
            self.local.set_state(WRITTEN, json.dumps(written))
            if spec.config:
                self._bump_config()
            if tab == ACTIVITY.name:  # the tab now holds exactly the journal's rows
                self.activity_mirror.all_sent()

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
        if lead_id in self._appended:  # this process has just appended it (the form's answer: no query)
            return False
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
        return self.local.next_lead_id()  # never below an ID in the sheet: see LeadRows.rebuild

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
        self.batcher.close()  # a batch in hand finishes; what waits stays in the outbox for next time
        self.settle()
        self.api.close()
        self.local.close()

    def settle(self, timeout: float = 30.0) -> None:
        """Wait for a read of the sheet this process started in the background (shutdown, tests)."""
        thread = self._background
        if thread is not None:
            thread.join(timeout)
        self.batcher.settle(timeout)
        self.placement.settle(timeout)

    def warm_up(self) -> None:
        """Before the first post (`leadrouter serve`, the worker): the sheet read, the layout and
        config known, the OAuth token fetched, so the first form post costs what the others do."""
        self.local.warm_up()
        try:
            self._ensure_loaded()
            self.config()
            self.api.keep_token_fresh()
        except SheetsUnavailable as exc:
            log.warning("could not read the sheet at start (%s); the first post will try again", exc)

    # ---- the tick lease across hosts (gsheets/lease.py) ------------------------------------------
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
        self._local.tick_read = None
        self._worker = True  # a worker reads the sheet with its ticks (or as a standby): see _keep_fresh
        held, self._local.tick_read = self.lease.hold(holder, now, seconds)
        return held

    def drop_worker_lease(self, holder: str, now: datetime) -> None:
        """A worker that stops writes what it owes the sheet (its last Activity rows) and lets go."""
        self.lease.drop(holder, now)

    def _read_with_lease(self, lease: LeaseWrite) -> bool:
        """The tick's one read, its batched write carrying the lease cell (for the SheetLease)."""
        with self._refreshing:
            return self._refresh(None, lease=lease)

    def _take_over(self) -> int:
        """The lease is ours: the Activity rows an earlier holder wrote, copied into the journal."""
        layout = self._layout()
        return self.activity_mirror.copy_from_sheet(layout) if layout is not None else 0

    def _relearn_layout(self, old: Layout) -> Layout:
        """A write refused as invalid (400): the tabs or their columns changed since our last look.
        Read them again now (2 reads), keeping the earlier header rows the tick recognises rows by."""
        fresh = self._load_layout()
        for tab, headers in fresh.headers.items():
            old.see_headers(tab, headers)
        old.sheet_ids, old.time_zone = fresh.sheet_ids, fresh.time_zone
        self._save_layout(old)
        self._stale_layout = False
        return old

    def _forget_layout(self) -> None:
        """A tab was renamed or deleted (a 400): learn the tabs again at the next refresh."""
        self.local.set_state(LAYOUT, "")
        self._saved_layout = ""

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
            written = json.loads(self.local.get_state(WRITTEN) or "{}")
            changed = False
            for tab in CONFIG_TABS:
                if tab.name not in snapshot or written.get(tab.name, 0) > epoch:
                    continue  # (this read began before the service's own newer write of the tab)
                positions = layout.positions(tab.name)
                records = [codec.record(tab, positions, row) for row in snapshot[tab.name][1:]]
                records = [r for r in records if any(not cells.is_blank(v) for v in r.values())]
                digest = digest_of(records)
                if digests.get(tab.name) != digest:
                    self.local.replace_rows(tab.name, records)
                    digests[tab.name] = digest
                    changed = True
            if changed:
                self._bump_config()
            if LEADS.name in snapshot:
                self.rows.rebuild(snapshot[LEADS.name], layout, codec, epoch, digests)
            if digests != before:
                self.local.set_state(DIGESTS, json.dumps(digests))

    # ---- writing queued work -----------------------------------------------------------------
    def _lead_row(self, op: Op) -> Lead:
        return self.local.get_lead(op.lead_id) or Lead.from_row(op.payload)

    def _send_appends(self, op_ids: list[int]) -> None:
        """The hot path: this request's new lead(s) in one values.append, within `hot_budget`
        seconds, unless a burst is on: then in the next batch (gsheets/burst.py)."""
        self.batcher.submit(op_ids)

    def _append_ops(self, ops: list[Op], hot: bool) -> str:
        """One appendCells for these claimed leads, reading back the header row in the same call:
        "done", or "refused" (a 429: certainly not written), "unknown" (it may have landed) or
        "failed"; if not done they wait in the outbox."""
        try:
            layout = self._layout() or self._load_layout()
            if self._stale_layout and not hot:  # the batch sender reads the columns again, not the form
                layout = self._relearn_layout(layout)
            positions = layout.positions(LEADS.name)
            if "lead_id" not in positions:
                raise SheetsUnavailable("the Leads tab has no 'Lead ID' column; run `leadrouter init`")
            width = max(positions.values()) + 1
            rows = [layout.codec.cells_row(LEADS, positions, width, self._lead_row(op).to_row()) for op in ops]
            limits = {"attempts": self.hot_attempts, "budget": self.hot_budget} if hot else {"attempts": 1}
            answer = self.api.append_rows(layout.sheet_ids[LEADS.name], rows,
                                          read_back=self.placement.read_back(positions), **limits)
        except SheetsUnavailable as exc:
            log.warning("%d lead(s) kept in the local outbox until the sheet is back: %s", len(ops), exc)
            # a 500/503 is Google's own answer: a read from now on shows whether it landed, so the
            # tick may send it again at once (not the batch sender, which does not read first)
            uncertain_at = (self._now() if exc.in_flight else self._now() - self.uncertain_grace) \
                if exc.uncertain else None
            self.outbox.release(ops, uncertain_at=uncertain_at)
            if exc.code == 400:  # e.g. a person deleted a column: our row is now wider than the tab.
                self._stale_layout = True  # a batchUpdate is atomic, nothing landed: the sender tries again
            return "refused" if exc.code in (429, 400) else "unknown" if exc.uncertain else "failed"
        except Exception:  # noqa: BLE001 - the lead is safe locally; the form must still get its answer
            log.exception("writing %d lead(s) to the sheet failed; kept in the local outbox", len(ops))
            self.outbox.release(ops, uncertain_at=self._now())
            return "unknown"
        self.outbox.done(ops)
        if hot:
            self._appended = ({op.lead_id for op in ops} | self._appended) if len(self._appended) < 1000 else \
                {op.lead_id for op in ops}
        self.placement.check(answer.get(LEADS.name, []), [op.lead_id for op in ops], positions, layout,
                             in_background=hot)
        return "done"

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
            if op.lead_id in appending or op.lead_id in self.rows.misplaced:
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
        misplaced = {lead_id: r for lead_id, r in self.rows.misplaced.items() if self.local.get_lead(lead_id)}
        for lead_id, r in misplaced.items():
            row = lead_rows[r] if r < len(lead_rows) else []
            width = max(max(positions.values()) + 1, len(row))
            requests.append(update_cells(layout.sheet_ids[LEADS.name], r, 0,
                                         codec.cells_row(LEADS, positions, width, self.local.get_lead(lead_id).to_row())))
        if to_append:
            width = max(positions.values()) + 1
            requests.append({"appendCells": {"sheetId": layout.sheet_ids[LEADS.name], "fields": "userEnteredValue",
                                             "rows": [codec.cells_row(LEADS, positions, width,
                                                                  self._lead_row(op).to_row()) for op in to_append]}})
        for (r, c), data in sorted(cell_updates.items()):
            requests.append(update_cells(layout.sheet_ids[LEADS.name], r, c, {"values": [data]}))
        mirror = self.activity_mirror.batch(layout)
        if mirror:
            a_pos = layout.positions(ACTIVITY.name)
            width = max(a_pos.values()) + 1
            requests.append({"appendCells": {"sheetId": layout.sheet_ids[ACTIVITY.name], "fields": "userEnteredValue",
                                             "rows": [codec.cells_row(ACTIVITY, a_pos, width, event.to_row())
                                                      for _, event in mirror]}})
        requests += extra or []
        # last, bottom-up, so that no row index above (all from this same read) moves
        requests += self.rows.repeat_deletions(lead_rows, rows_by_id, repeats, positions, layout)
        self.outbox.done(landed, note="found in the sheet")
        if gone:
            log.warning("%d update(s) skipped: their lead rows were deleted from the sheet", len(gone))
            self.outbox.done(gone, note="row deleted in the sheet")
        if not requests:
            self.outbox.done(updates)
            return
        # cell updates are placed by position: the same call reads the header row back, to see
        # whether a person moved a column between this tick's read and this write (placement.py)
        read_back = [self.placement.header_range()] if cell_updates else None
        try:
            answer = self.api.batch_update(requests, idempotent=False, read_back=read_back)
        except SheetsUnavailable as exc:
            log.warning("sheet write failed; %d write(s) stay queued: %s", len(to_append) + len(updates), exc)
            self.outbox.release(to_append + updates, uncertain_at=self._now() if exc.in_flight else None)
            if exc.code == 400:  # e.g. a tab was deleted: learn the tabs again at the next refresh
                self._forget_layout()
            if mirror and exc.uncertain:
                self.activity_mirror.lost(mirror)
            return
        self.outbox.done(to_append + updates)
        self.rows.misplaced = {}
        if read_back:
            self.placement.check_cells(answer.get(LEADS.name, []), cell_updates, positions, lead_rows, layout)
        if extra:
            self.lease.written()
        if mirror:
            self.activity_mirror.sent(mirror[-1][0])


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
