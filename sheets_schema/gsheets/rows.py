"""The Leads tab read back into the journal's replica, and the repairs of its rows.

Rows are found by Lead ID, never by a remembered row number. `LeadRows` is held by the Google
Sheets store: it rebuilds the local copy of the leads from a read of the sheet, finds rows
appended just as someone moved the columns, and picks out a Lead ID's repeated rows for
deletion; it never imports the store.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any, Callable

from pydantic import ValidationError

from .. import cells
from ..models import Lead
from ..sql_store import SqlStore
from ..tabs import LEADS
from .layout import Codec, Headers, Layout, cell_at
from .outbox import Op, Outbox

log = logging.getLogger("leadrouter.sheets")

LEAD_COUNTER = "lead_counter"  # SqlStore.next_lead_id's counter
IDENTITY = ("received_at", "first_name", "last_name", "email", "phone", "zip", "insurance_type", "assigned_to")
SERVICE_ID = re.compile(r"^L-(\d+)$")
DATETIME_KEYS = [c.key for c in LEADS.columns if c.kind == "datetime"]


def digest_of(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, default=str, sort_keys=True).encode()).hexdigest()


def _lead_number(lead_id: str) -> int:
    digits = re.sub(r"\D", "", lead_id)
    return int(digits) if digits else 0


def _same(a: Any, b: Any) -> bool:
    """Two cell values read back from the sheet (numbers compared as numbers)."""
    if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) < 1e-6
    return str(a if a is not None else "").strip() == str(b if b is not None else "").strip()


class LeadRows:
    """The Leads tab's rows, as the store reads them: `misplaced` holds the rows (by lead id)
    the next drain rewrites under today's headers."""

    def __init__(self, journal: SqlStore, outbox: Outbox, warn_once: Callable[..., None]) -> None:
        self.local = journal
        self.outbox = outbox
        self.warn_once = warn_once
        self.misplaced: dict[str, int] = {}  # lead id -> row written under an old header layout

    def rebuild(self, rows: list[list[Any]], layout: Layout, codec: Codec, epoch: int,
                digests: dict[str, str]) -> None:
        positions = layout.positions(LEADS.name)
        if "lead_id" not in positions:
            log.error("the Leads tab has no 'Lead ID' column; run `leadrouter init` to restore it")
            return
        overlay = self.outbox.overlay(epoch)
        digest = digest_of([rows, [(op.id, op.state) for op in overlay], layout.leads_history])
        if digests.get(LEADS.name) == digest:
            return
        existing = {lead.lead_id: lead for lead in self.local.leads()}
        misplaced = self._find_misplaced(rows, positions, layout, codec, existing, overlay)
        absent = [c.key for c in LEADS.columns if c.key not in positions]
        if absent:
            self.warn_once(f"absent:{','.join(absent)}", "Leads tab: no %s column (renamed or deleted?); the "
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
        in_column = {str(cell_at(row, key)).strip() for row in rows[1:]}
        missing = {lead_id for lead_id in existing if lead_id not in in_column and lead_id not in pending}
        found: dict[str, int] = {}
        if missing and layout.leads_history:
            known = set(existing) | pending
            earlier = [Headers(h).positions(LEADS) for h in layout.leads_history]
            for r, row in enumerate(rows[1:], start=1):
                if str(cell_at(row, key)).strip() in known:
                    continue
                for old in earlier:
                    lead_id = str(cell_at(row, old.get("lead_id"))).strip()
                    if lead_id in missing and lead_id not in found and \
                            _fields_match(row, old, existing[lead_id], codec) >= 3:
                        found[lead_id] = r
                        break
        if layout.leads_history:
            found.update(self._shifted(rows, positions, layout, codec, existing, found))
        self.misplaced = dict(found)
        if found:
            log.warning("%d lead row(s) were written while columns moved; rewriting them", len(found))
        return found

    @staticmethod
    def _shifted(rows: list[list[Any]], positions: dict[str, int], layout: Layout, codec: Codec,
                 existing: dict[str, Lead], found: dict[str, int]) -> dict[str, int]:
        """Rows in their right place by Lead ID whose other cells were written under an earlier
        header row (a person dragged or inserted a column just before our append): read under
        today's headers they contradict the journal on two or more identifying fields, read under
        that earlier row they agree with it on all but at most one. Their cells are the service's
        own mistake, so the journal's values are written back, never adopted from the sheet."""
        key = positions["lead_id"]
        earlier = [Headers(h).positions(LEADS) for h in layout.leads_history]
        shifted: dict[str, int] = {}
        for r, row in enumerate(rows[1:], start=1):
            lead_id = str(cell_at(row, key)).strip()
            lead = existing.get(lead_id)
            if lead is None or lead_id in found or lead_id in shifted:
                continue
            wanted = _identity(lead)
            if len(wanted) - _fields_match(row, positions, lead, codec) < 2:
                continue  # as good as right under today's headers (a person may have corrected one field)
            if any(_fields_match(row, old, lead, codec) >= len(wanted) - 1 for old in earlier
                   if old.get("lead_id") == key):
                shifted[lead_id] = r
        return shifted

    def repeat_deletions(self, rows: list[list[Any]], first_row: dict[str, int], repeats: list[tuple[str, int]],
                         positions: dict[str, int], layout: Layout) -> list[dict[str, Any]]:
        """A Lead ID in a second row (an append that landed twice, a pasted copy): the later copy
        is deleted when it is the same lead and holds nothing of people's that the first lacks."""
        ours = {i for k, i in positions.items() if LEADS.column(k).editor == "service"}
        doomed = []
        for lead_id, r in repeats:
            first, later = rows[first_row[lead_id]], rows[r]
            same_lead = all(_same(cell_at(first, positions.get(k)), cell_at(later, positions.get(k)))
                            for k in ("received_at", "email", "phone") if k in positions)
            peoples = all(cell_at(later, i) in ("", None) or _same(cell_at(later, i), cell_at(first, i))
                          for i in range(len(later)) if i not in ours)
            if same_lead and peoples:
                doomed.append(r)
            else:
                self.warn_once(f"repeat:{lead_id}:{r}", "Leads tab: %s is in rows %d and %d with different details; "
                               "kept both (delete the wrong one; two web hosts with separate journals?)",
                               lead_id, first_row[lead_id] + 1, r + 1)
        if doomed:
            log.warning("%d repeated lead row(s) removed from the Leads tab", len(doomed))
        sheet_id = layout.sheet_ids[LEADS.name]
        return [{"deleteDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": r,
                                               "endIndex": r + 1}}} for r in sorted(doomed, reverse=True)]


def _identity(lead: Lead) -> list[str]:
    values = lead.to_row()
    return [k for k in IDENTITY if values.get(k) not in (None, "")]


def _fields_match(row: list[Any], positions: dict[str, int], lead: Lead, codec: Codec) -> int:
    """How many of a lead's identifying fields a row holds where `positions` puts them."""
    values = lead.to_row()
    matches = 0
    for k in IDENTITY:
        expected = values.get(k)
        if k in positions and expected not in (None, "") and \
                _same(cell_at(row, positions[k]), codec.to_cell(LEADS.column(k).kind, expected)):
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
