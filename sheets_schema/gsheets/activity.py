"""The Activity tab as the mirror of the local journal, written in batches.

Every journal row is sent once: a batch whose answer was lost is looked for in the tab before
anything is sent again, and rows copied from the tab into the journal (another host's, at a
worker's take-over) are not sent back. `ActivityMirror` is held by the Google Sheets store,
which gives it the journal and the api; it never imports the store.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, insert, not_, or_, select

from automations.events import REASSIGNMENT_EVENTS

from ..models import Activity, activity_not_in
from ..sql_store import SqlStore, _decode, _encode, activity_t
from ..tabs import ACTIVITY
from .api import SheetsApi, SheetsUnavailable
from .layout import Layout, cell_at, quote_tab

MIRRORED = "sheets_activity_mirrored"
UNCERTAIN = "sheets_activity_uncertain"
IMPORTED = "sheets_activity_imported"  # [[first, last], ...] journal rows copied from the sheet: not mirrored back
MIRROR_BATCH = 500


def _norm_cell(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(float(value), 6)
    return "" if value is None else str(value)


class ActivityMirror:
    """The journal's Activity rows on their way to the Activity tab, and back at a take-over."""

    def __init__(self, journal: SqlStore, api: SheetsApi) -> None:
        self.local = journal
        self.api = api

    def sent(self, last: int) -> None:
        """The journal's rows up to `last` are in the tab."""
        self.local.set_state(MIRRORED, str(last))

    def lost(self, batch: list[tuple[int, Activity]]) -> None:
        """The write carrying `batch` lost its answer: look for it in the tab before sending it again."""
        self.local.set_state(UNCERTAIN, f"{batch[0][0]}:{batch[-1][0]}")

    def all_sent(self) -> None:
        """The tab now holds exactly the journal's rows."""
        with self.local._conn() as conn:
            last = conn.execute(select(func.max(activity_t.c.row_id))).scalar()
        self.local.set_state(MIRRORED, str(last or 0))

    def batch(self, layout: Layout) -> list[tuple[int, Activity]]:
        """Journal rows not yet in the Activity tab. A batch whose answer was lost is looked for first."""
        if ACTIVITY.name not in layout.sheet_ids or not layout.positions(ACTIVITY.name):
            return []
        uncertain = self.local.get_state(UNCERTAIN)
        if uncertain:
            first, last = (int(x) for x in uncertain.split(":"))
            try:
                landed = self._landed(layout, first, last)
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

    def _landed(self, layout: Layout, first: int, last: int) -> bool:
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
        in_tab = Counter(tuple(_norm_cell(cell_at(row, positions[c.key])) for c in ACTIVITY.columns
                               if c.key in positions) for row in rows[1:])
        wanted = Counter(cells_ for _, cells_ in journal)
        batch = {cells_ for row_id, cells_ in journal if row_id >= first}
        return all(in_tab[cells_] >= wanted[cells_] for cells_ in batch)

    def copy_from_sheet(self, layout: Layout) -> int:
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
