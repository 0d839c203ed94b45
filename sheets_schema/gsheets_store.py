"""The Google Sheets store: the agency's spreadsheet is the database and the control panel.

People edit the sheet while the service writes to it, and Google allows ~60 requests a
minute, so the store is local-first (the cosmicpython CSV-repository shape):

- a local SQLite journal (a `SqlStore`) keeps the service's own memory: claims, messages
  sent, state, the lead counter, and a replica of every tab that reads are served from;
- `refresh()` (once per scheduler tick) reads every tab in ONE values.batchGet, rebuilds
  the replica when the sheet changed (config is thereby cached between ticks), then
  drains the outbox: queued leads, cell updates and the Activity mirror in ONE
  spreadsheets.batchUpdate;
- a new lead costs ONE values.append (RAW), sent after the local transaction commits; if
  the sheet is unreachable the lead stays in the durable outbox (the post answers 202,
  the owner is still notified) and the next successful drain writes it exactly once;
- rows are found by Lead ID and columns by header text in the latest snapshot, never by
  remembered positions; before anything is appended again the snapshot is searched for
  its Lead ID, because a timed-out append may have landed.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Iterator

from pydantic import ValidationError
from sqlalchemy import func, select

from automations.config import AgencyConfig
from automations.ports import ProducerLoad, Store

from . import cells
from .gsheets_api import SHEETS_API, SheetsApi, SheetsUnavailable
from .dashboard import TAB_NAME as DASHBOARD_TAB
from .gsheets_layout import Codec, Headers, col_letters, dashboard_requests, format_requests, quote_tab
from .models import Activity, Lead
from .outbox import Op, Outbox
from .sql_store import SqlStore, _decode, activity_t
from .tabs import ACTIVITY, CONFIG_TABS, LEADS, TABS, snake

log = logging.getLogger("leadrouter.sheets")

LAYOUT = "sheets_layout"
CONFIG_VERSION = "sheets_config_version"
DIGESTS = "sheets_digests"  # {tab: digest of the rows last copied from the sheet}
MIRRORED = "sheets_activity_mirrored"
UNCERTAIN = "sheets_activity_uncertain"
REFRESHED_AT = "sheets_refreshed_at"
APPLIED = "sheets_applied_epoch"  # the newest read of the sheet copied into the replica
DRAIN_LEASE = "sheets_drain_lease"  # wall-clock expiry: one drainer at a time across processes
LEASE_SECONDS = 120.0
MIRROR_BATCH = 500
STALE_SECONDS = 300
FRESH_HEADERS_SECONDS = 5.0


@dataclass
class Layout:
    """Where things are in the spreadsheet, as of the last read."""
    time_zone: str
    sheet_ids: dict[str, int]
    headers: dict[str, Headers] = field(default_factory=dict)

    @property
    def codec(self) -> Codec:
        return Codec(self.time_zone)

    def positions(self, tab_name: str) -> dict[str, int]:
        headers = self.headers.get(tab_name)
        return headers.positions(TABS[tab_name]) if headers else {}

    def dumps(self) -> str:
        return json.dumps({"tz": self.time_zone, "sheets": self.sheet_ids,
                           "headers": {t: list(h.cells) for t, h in self.headers.items()}})

    @classmethod
    def loads(cls, text: str) -> "Layout":
        data = json.loads(text)
        return cls(data["tz"], data["sheets"], {t: Headers.of(h) for t, h in data.get("headers", {}).items()})


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, default=str, sort_keys=True).encode()).hexdigest()


def _lead_number(lead_id: str) -> int:
    digits = re.sub(r"\D", "", lead_id)
    return int(digits) if digits else 0


class GSheetsStore(Store):
    def __init__(self, api: SheetsApi, journal: SqlStore, *, hot_attempts: int = 3) -> None:
        self.api = api
        self.local = journal
        self.outbox = Outbox(journal)
        self.hot_attempts = hot_attempts
        self._local = threading.local()
        self._config: tuple[str, AgencyConfig] | None = None
        self._checked = False
        self._headers_read_at = 0.0  # time.monotonic() of the last read of every header row
        self._refreshing = threading.Lock()  # one refresh at a time in this process
        self._saved_layout: str | None = None
        self._misplaced: dict[str, int] = {}  # lead id -> row written under an old header layout
        self.local.init()  # local tables only; the sheet is touched by init() and refresh()
        self.outbox.create()

    # ---- structure ------------------------------------------------------------------------
    def init(self) -> None:
        """Create missing tabs and headers and format them; keeps people's data and extra columns."""
        meta = self.api.metadata()
        sheets = {s["properties"]["title"]: s for s in meta.get("sheets", [])}
        present = [t for t in TABS if t in sheets]
        header_rows = self.api.batch_get([f"{quote_tab(t)}!1:1" for t in present]) if present else []
        current = {t: Headers.of(rows[0] if rows else []) for t, rows in zip(present, header_rows)}
        used = {s["properties"]["sheetId"] for s in sheets.values()}
        requests: list[dict[str, Any]] = []
        layout = Layout(meta.get("properties", {}).get("timeZone", "UTC"), {})
        for tab in TABS.values():
            if tab.name in sheets:
                props = sheets[tab.name]["properties"]
                sheet_id, headers = props["sheetId"], current[tab.name]
                missing = headers.missing(tab)
                width = len(headers.cells)
                short = width + len(missing) - props.get("gridProperties", {}).get("columnCount", 26)
                if short > 0:
                    requests.append({"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS", "length": short}})
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
            requests += format_requests(tab, sheet_id, final.positions(tab),
                                        sheets.get(tab.name, {}).get("protectedRanges", []))
        requests += dashboard_requests(sheets.get(DASHBOARD_TAB), max(used | {0}) + 1,
                                       {t: list(h.cells) for t, h in layout.headers.items()})
        self.api.batch_update(requests, idempotent=False)
        self._save_layout(layout)
        self.refresh()

    def refresh(self, attempts: int | None = None) -> bool:
        """One read of every tab, then the queued writes. False when the sheet was unreachable."""
        with self._refreshing:
            return self._refresh(attempts)

    def _refresh(self, attempts: int | None) -> bool:
        epoch = self.outbox.begin_epoch()
        try:
            layout = self._layout() or self._load_layout()
            titles = [t for t in TABS if t in layout.sheet_ids and t != ACTIVITY.name]
            ranges = [quote_tab(t) for t in titles]
            if ACTIVITY.name in layout.sheet_ids:
                titles.append(ACTIVITY.name)
                ranges.append(f"{quote_tab(ACTIVITY.name)}!1:1")
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
        self._headers_read_at = time.monotonic()
        layout.headers.update({t: Headers.of(rows[0] if rows else []) for t, rows in snapshot.items()})
        self._save_layout(layout)
        self._apply_snapshot(snapshot, layout, epoch)
        self.local.set_state(REFRESHED_AT, str(time.time()))
        if self._take_drain_lease():
            try:
                self._drain(snapshot, layout)
            finally:
                self.local.set_state(DRAIN_LEASE, "0")
        return True

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
            layout.headers[tab] = Headers.of(header_rows[0] if header_rows else [])
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
        changes = {known[k].key: v for k, v in changes.items() if k in known}  # unknown keys are ignored, as in SQL
        text = {k: cells.to_text(known[k].kind, v) for k, v in changes.items()}
        with self.local._tx():
            self.local.update_lead(lead_id, changes)
            self.outbox.put("update", lead_id, text)

    def leads(self, since: datetime | None = None) -> list[Lead]:
        self._ensure_loaded()
        return self.local.leads(since)

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
        return self.local.next_lead_id()

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
        self._ensure_loaded()
        version = self.local.get_state(CONFIG_VERSION) or "0"
        cached = self._config
        if cached is not None and cached[0] == version:
            return cached[1]
        config = super().config()
        self._config = (version, config)
        return config

    def close(self) -> None:
        self.api.close()
        self.local.close()

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
        return layout

    def _ensure_loaded(self) -> None:
        """A process that finds no recent copy of the sheet reads it once before answering."""
        if self._checked:
            return
        last = self.local.get_state(REFRESHED_AT)
        if last is None:
            if not self.refresh():  # no copy of the sheet at all: better a 503 than routing on nothing
                raise SheetsUnavailable("the sheet has never been read and cannot be reached now")
        elif time.time() - float(last) > STALE_SECONDS:
            self.refresh(attempts=1)  # a local copy exists: do not keep a caller waiting on backoff
        self._checked = True

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
        digest = _digest([rows, [(op.id, op.state) for op in overlay]])
        if digests.get(LEADS.name) == digest:
            return
        existing = {lead.lead_id: lead for lead in self.local.leads()}
        misplaced = self._find_misplaced(rows, positions["lead_id"], existing, overlay)
        leads: dict[str, Lead] = {lead_id: existing[lead_id] for lead_id in misplaced}
        for r, row in enumerate(rows[1:], start=1):
            if r in misplaced.values():
                continue
            record = codec.record(LEADS, positions, row)
            lead_id = str(record.get("lead_id") or "").strip()
            if not lead_id or lead_id in leads:
                continue
            record["lead_id"] = lead_id
            try:
                leads[lead_id] = _keep_exact_times(Lead.from_row(record), existing.get(lead_id), codec)
            except ValidationError as exc:
                log.warning("lead %s: unreadable row in the sheet (%s); keeping the last good copy",
                            lead_id, exc.errors()[0].get("loc"))
                if lead_id in existing:
                    leads[lead_id] = existing[lead_id]
        for op in overlay:  # writes the snapshot may not show yet
            if op.kind == "append" and op.lead_id not in leads:
                leads[op.lead_id] = existing.get(op.lead_id) or Lead.from_row(op.payload)
            elif op.kind == "update" and op.lead_id in leads:
                changes = {k: cells.parse(LEADS.column(k).kind, v) for k, v in op.payload.items()}
                leads[op.lead_id] = leads[op.lead_id].model_copy(update=changes)
        ordered = sorted(leads.values(), key=lambda lead: (lead.received_at, _lead_number(lead.lead_id)))
        self.local.replace_rows(LEADS.name, [lead.to_row() for lead in ordered])
        digests[LEADS.name] = digest

    def _find_misplaced(self, rows: list[list[Any]], key: int, existing: dict[str, Lead],
                        overlay: list[Op]) -> dict[str, int]:
        """Rows appended just as someone moved the columns: our Lead ID sits in another column.

        A lead of ours missing from the Lead ID column is either deleted by a person (its ID is
        nowhere) or written under yesterday's header layout (its ID is in another column of a
        row): that row is rewritten under today's headers by the next drain.
        """
        in_column = {str(row[key]).strip() for row in rows[1:] if key < len(row)}
        pending = {op.lead_id for op in overlay if op.kind == "append"}
        missing = {lead_id for lead_id in existing if lead_id not in in_column and lead_id not in pending}
        found: dict[str, int] = {}
        if missing:
            for r, row in enumerate(rows[1:], start=1):
                for value in row:
                    if isinstance(value, str) and value.strip() in missing:
                        found.setdefault(value.strip(), r)
        self._misplaced = dict(found)
        if found:
            log.warning("%d lead row(s) were written while columns moved; rewriting them", len(found))
        return found

    # ---- writing queued work -----------------------------------------------------------------
    def _lead_row(self, op: Op) -> Lead:
        return self.local.get_lead(op.lead_id) or Lead.from_row(op.payload)

    def _send_appends(self, op_ids: list[int]) -> None:
        """The hot path: this request's new lead(s) in one values.append; on failure they wait in the outbox."""
        ops = self.outbox.claim(op_ids)
        if not ops:
            return
        try:
            layout = self._layout() or self._load_layout()
            positions = layout.positions(LEADS.name)
            if "lead_id" not in positions:
                raise SheetsUnavailable("the Leads tab has no 'Lead ID' column; run `leadrouter init`")
            rows = [layout.codec.row(LEADS, positions, self._lead_row(op).to_row()) for op in ops]
            last = col_letters(max(positions.values()))
            self.api.append(f"{quote_tab(LEADS.name)}!A1:{last}", rows, attempts=self.hot_attempts)
        except SheetsUnavailable as exc:
            log.warning("%d lead(s) kept in the local outbox until the sheet is back: %s", len(ops), exc)
            self.outbox.release(ops)
            return
        except Exception:  # noqa: BLE001 - the lead is safe locally; the form must still get its answer
            log.exception("writing %d lead(s) to the sheet failed; kept in the local outbox", len(ops))
            self.outbox.release(ops)
            return
        self.outbox.done(ops)

    def _drain(self, snapshot: dict[str, list[list[Any]]], layout: Layout) -> None:
        """Queued leads, cell updates and the Activity mirror, in one batchUpdate."""
        positions = layout.positions(LEADS.name)
        codec = layout.codec
        rows_by_id: dict[str, int] = {}
        key = positions.get("lead_id")
        for r, row in enumerate(snapshot.get(LEADS.name, [])[1:], start=1):
            lead_id = str(row[key]).strip() if key is not None and key < len(row) else ""
            if lead_id:
                rows_by_id.setdefault(lead_id, r)
        ops = self.outbox.claim() if key is not None else []
        landed = [op for op in ops if op.kind == "append" and op.lead_id in rows_by_id]
        to_append = [op for op in ops if op.kind == "append" and op.lead_id not in rows_by_id]
        appending = {op.lead_id for op in to_append}
        updates, gone = [], []
        cell_updates: dict[tuple[int, int], dict[str, Any]] = {}
        for op in (op for op in ops if op.kind == "update"):
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
        requests: list[dict[str, Any]] = []
        misplaced = {lead_id: r for lead_id, r in self._misplaced.items() if self.local.get_lead(lead_id)}
        for lead_id, r in misplaced.items():
            row = snapshot.get(LEADS.name, [])[r] if r < len(snapshot.get(LEADS.name, [])) else []
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
            self.outbox.release(to_append + updates)
            if exc.code == 400:  # e.g. a tab was deleted: learn the tabs again at the next refresh
                self.local.set_state(LAYOUT, "")
                self._saved_layout = ""
            if mirror and exc.uncertain:
                self.local.set_state(UNCERTAIN, f"{mirror[0][0]}:{mirror[-1][0]}")
            return
        self.outbox.done(to_append + updates)
        self._misplaced = {}
        if mirror:
            self.local.set_state(MIRRORED, str(mirror[-1][0]))

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
        query = (select(activity_t).where(activity_t.c.row_id > mirrored).order_by(activity_t.c.row_id)
                 .limit(MIRROR_BATCH))
        with self.local._conn() as conn:
            return [(r.row_id, Activity.from_row(_decode(ACTIVITY, r))) for r in conn.execute(query)]

    def _activity_landed(self, layout: Layout, first: int, last: int) -> bool:
        """Did a batch whose answer was lost reach the Activity tab? Compare its first and last rows."""
        query = select(activity_t).where(activity_t.c.row_id.in_([first, last]))
        with self.local._conn() as conn:
            wanted = [Activity.from_row(_decode(ACTIVITY, r)) for r in conn.execute(query)]
        rows = self.api.get(quote_tab(ACTIVITY.name))
        positions = layout.positions(ACTIVITY.name)
        seen = {(str(r.get("lead_id", "")), str(r.get("event", "")), str(r.get("detail", "")))
                for r in (layout.codec.record(ACTIVITY, positions, row) for row in rows[1:])}
        return all((e.lead_id, e.event, e.detail) in seen for e in wanted)


DATETIME_KEYS = [c.key for c in LEADS.columns if c.kind == "datetime"]


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
    the local SQLite journal (default ./leadrouter-journal-<id>.db).
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
    return GSheetsStore(api, SqlStore(journal))
