"""Did a new lead row land under the right headers? Learnt from the append's own answer.

Google has no write that says "a new row, the email in the column headed Email": appendCells
and values.append place cells by position, so a person who drags or inserts a column between
our last look at the header row and our append moves the target under us. The append asks for
the header row (and the tail of the column it wrote the Lead IDs into) back in its own answer
(`includeSpreadsheetInResponse` + `responseRanges`), so it costs no extra call:

- the headers are as they are right after our write: the layout is fresh after every append,
  and the next write uses it;
- when our columns had moved, the row just written is rewritten at once, under today's headers,
  from the journal (one updateCells; a call per person's edit, never per lead). Its misplaced
  cells are never read back as the lead's details. Should that repair fail, the tick finds the
  row by the older header row and repairs it then (rows.py).

`Placement` is held by the Google Sheets store; it never imports it.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from ..sql_store import SqlStore
from ..tabs import LEADS
from .api import SheetsApi, SheetsUnavailable
from .layout import Headers, Layout, col_letters, quote_tab, update_cells

log = logging.getLogger("leadrouter.sheets")

SLACK = 50  # rows a person may have deleted since our last look, still found in the read-back tail


def grid_values(grid: dict[str, Any]) -> list[list[str]]:
    """GridData (formattedValue only) -> rows of text; an empty cell or row is ''/[]."""
    return [[str(cell.get("formattedValue", "")) for cell in row.get("values", [])]
            for row in grid.get("rowData", [])]


class Placement:
    def __init__(self, api: SheetsApi, journal: SqlStore, save_layout: Callable[[Layout], None]) -> None:
        self.api = api
        self.local = journal
        self.save_layout = save_layout
        self.rows_seen = 0  # the Leads tab's last row (1-based) as of our last read or append
        self.repaired = 0  # rows rewritten at once after a person's column edit (tests, benchmarks)
        self._repairs: list[threading.Thread] = []

    @staticmethod
    def header_range() -> str:
        return f"{quote_tab(LEADS.name)}!1:1"

    def read_back(self, positions: dict[str, int]) -> list[str]:
        """The ranges an append asks back: the header row, and the Lead ID column we write into,
        from a little above the last row we know of."""
        tab, key = quote_tab(LEADS.name), col_letters(positions["lead_id"])
        return [self.header_range(), f"{tab}!{key}{max(2, self.rows_seen - SLACK)}:{key}"]

    def check_cells(self, grids: list[dict[str, Any]], written: dict[tuple[int, int], dict[str, Any]],
                    used: dict[str, int], rows: list[list[Any]], layout: Layout) -> None:
        """After the tick's cell updates (by row and column, from its read of the sheet): if a person
        moved our columns in between, each value goes to its own header now, and the cell it landed
        in gets back what the read showed there (the column that stands there now, as it was read)."""
        before = Headers.of(rows[0] if rows else [])
        moved = self._moved(grids[0], before, used, layout) if grids else None
        if moved is None:
            return
        headers, now = moved
        key_at = {i: k for k, i in used.items()}
        sheet_id = layout.sheet_ids[LEADS.name]
        requests = []
        for (r, c), data in sorted(written.items()):
            moved_to = now.get(key_at.get(c, ""))
            if moved_to is not None:
                requests.append(update_cells(sheet_id, r, moved_to, {"values": [data]}))
            if moved_to == c:
                continue
            here = headers.cells[c] if c < len(headers.cells) else ""
            was = before.cells.index(here) if here.strip() and here in before.cells else None
            row = rows[r] if r < len(rows) else []
            value = row[was] if was is not None and was < len(row) else ""
            requests.append(update_cells(sheet_id, r, c, {"values": [_literal(value)]}))
        log.warning("a person moved columns while %d cell(s) were written; putting them under their headers",
                    len(written))
        self._repair(requests)

    def _moved(self, grid: dict[str, Any], known: Headers | None, used: dict[str, int],
               layout: Layout) -> tuple[Headers, dict[str, int]] | None:
        """The header row a write read back, learnt into the layout. (Those headers, where our columns
        stand now) when they stand elsewhere than `used` put them; None when our writes were right."""
        header = grid_values(grid)
        headers = Headers.of(header[0] if header else [])
        if known is not None and known.cells == headers.cells:
            return None
        layout.see_headers(LEADS.name, headers)
        self.save_layout(layout)
        now = layout.positions(LEADS.name)
        return None if now == used else (headers, now)

    def check(self, grids: list[dict[str, Any]], lead_ids: list[str], used: dict[str, int], layout: Layout,
              *, in_background: bool) -> None:
        """After an append that wrote `lead_ids` with the columns `used`: learn today's header row;
        if our columns had moved, rewrite those rows now (in a thread when a form is waiting)."""
        if len(grids) < 2:
            return  # no read-back in the answer: the tick's read is the check
        start, wanted = grids[1].get("startRow", 0), set(lead_ids)
        rows_at = {row[0].strip(): start + i for i, row in enumerate(grid_values(grids[1]))
                   if row and row[0].strip() in wanted}
        if rows_at:
            self.rows_seen = max(self.rows_seen, max(rows_at.values()) + 1)
        # (a change beside our columns, one added at the right or a people's column renamed, is no move)
        moved = self._moved(grids[0], layout.headers.get(LEADS.name), used, layout)
        if moved is None:
            return
        _, now = moved
        if not rows_at:
            log.warning("%d lead row(s) were written as a person moved columns, and could not be found at once; "
                        "the next tick rewrites them", len(lead_ids))
            return
        log.warning("%d lead row(s) were written as a person moved columns; rewriting them under today's headers",
                    len(rows_at))
        width = max(max(used.values()), max(now.values(), default=0)) + 1
        requests = []
        for lead_id, r in rows_at.items():
            lead = self.local.get_lead(lead_id)
            if lead is None:
                continue
            requests.append(update_cells(layout.sheet_ids[LEADS.name], r, 0,
                                         layout.codec.cells_row(LEADS, now, width, lead.to_row())))
        if not requests:
            return
        if in_background:
            self._repairs = [t for t in self._repairs if t.is_alive()]
            thread = threading.Thread(target=self._repair, args=(requests,), name="sheets-repair", daemon=True)
            self._repairs.append(thread)
            thread.start()
        else:
            self._repair(requests)

    def _repair(self, requests: list[dict[str, Any]]) -> None:
        try:
            self.api.batch_update(requests, idempotent=True)  # the same cells again: safe to retry
        except SheetsUnavailable as exc:
            log.warning("could not rewrite %d misplaced lead row(s) now (%s); the next tick does", len(requests), exc)
            return
        self.repaired += len(requests)

    def settle(self, timeout: float = 30.0) -> None:
        for thread in list(self._repairs):
            thread.join(timeout)



def _literal(value: Any) -> dict[str, Any]:
    """A value as read UNFORMATTED (a number, a boolean) written back as that value."""
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, (int, float)):
        return {"userEnteredValue": {"numberValue": value}}
    return {} if value in (None, "") else {"userEnteredValue": {"stringValue": str(value)}}
