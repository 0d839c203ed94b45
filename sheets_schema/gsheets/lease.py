"""The tick lease across hosts: one worker ticks per spreadsheet, wherever it runs.

The lease is a cell in a hidden tab of the spreadsheet (A1 a label, B1 the holder, C1 until
when). It is read with the tick's one read and renewed in the tick's batched write once half
of it is used up. A `SheetLease` is held by the Google Sheets store, which hands it what it
needs (the api, a way to do the tick's read carrying a lease write, a way to copy an earlier
holder's Activity rows, and to save or forget the layout); it never imports the store.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from .. import cells
from .api import SheetsApi, SheetsUnavailable
from .layout import LEASE_LABEL, LEASE_RANGE, LEASE_TAB, Layout, cell_at

log = logging.getLogger("leadrouter.sheets")

LEASE_SETTLE = 2.0  # between writing a claim on the tick lease and reading who won

# (holder, now, seconds, leaving): what a refresh carries to the lease cell
LeaseWrite = tuple[str, datetime, float, bool]


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


def lease_tab_request(sheet_id: int) -> dict[str, Any]:
    return {"addSheet": {"properties": {"sheetId": sheet_id, "title": LEASE_TAB, "hidden": True,
                                        "gridProperties": {"rowCount": 2, "columnCount": 3}}}}


def parse_lease(rows: list[list[Any]] | None) -> tuple[str, datetime | None]:
    row = rows[0] if rows else []
    holder = str(cell_at(row, 1)).strip()
    return holder, cells.parse_datetime(str(cell_at(row, 2)).strip()) if holder else None


class SheetLease:
    """This process's side of the tick lease in the spreadsheet.

    `read(lease)` is the store's tick read (one batchGet, then the batched write that carries
    `requests(...)`); `take_over()` copies the Activity rows an earlier holder wrote into the
    journal and returns how many (it may raise SheetsUnavailable); `save_layout(layout)` and
    `forget_layout()` keep the store's record of the tabs.
    """

    def __init__(self, api: SheetsApi, *, read: Callable[[LeaseWrite], bool], take_over: Callable[[], int],
                 save_layout: Callable[[Layout], None], forget_layout: Callable[[], None],
                 settle: float = LEASE_SETTLE) -> None:
        self.api = api
        self.read = read
        self.take_over = take_over
        self.save_layout = save_layout
        self.forget_layout = forget_layout
        self.settle = settle
        self.state = _TickLease()

    def hold(self, holder: str, now: datetime, seconds: float) -> tuple[bool, bool | None]:
        """Whether `holder` may tick now, and what the tick's own refresh() is: True when the read
        just done serves it, False when the sheet could not be read (carry on from the local
        copy without a second try), None when it must read the sheet itself."""
        state = self.state
        if state.mine != holder and state.holder not in ("", holder) and state.until and state.until > now \
                and time.monotonic() - state.seen_at < seconds / 2:
            return False, None  # standing by; the next look at the sheet is not due yet
        if not self.read((holder, now, seconds, False)):
            return state.mine == holder and state.mine_until is not None and state.mine_until > now, False
        live = state.until is not None and state.until > now
        if state.mine == holder and state.holder == holder and live:
            return True, True  # run_tick's refresh() is this read
        if state.holder not in ("", holder) and live:
            if state.standby_logged != state.holder:
                state.standby_logged = state.holder
                log.warning("standing by: worker %s holds the tick lease in the spreadsheet until %s; this "
                            "worker takes over when it stops (one worker per spreadsheet: docs/google-sheets.md)",
                            state.holder, state.until.isoformat(timespec="seconds"))
            return False, None
        return self._confirm_claim(holder, now)

    def _confirm_claim(self, holder: str, now: datetime) -> tuple[bool, bool | None]:
        """After a claim: let a rival's claim land, read the cell again, and if we won, copy the
        earlier holder's Activity rows into the journal before ticking."""
        self.api.sleep(self.settle)
        try:
            current, until = parse_lease(self.api.get(LEASE_RANGE))
        except SheetsUnavailable as exc:
            log.warning("could not confirm the tick lease (%s); trying again next tick", exc)
            return False, None
        state = self.state
        state.holder, state.until, state.seen_at = current, until, time.monotonic()
        if current != holder or until is None or until <= now:
            return False, None
        try:
            copied = self.take_over()
        except SheetsUnavailable as exc:
            log.warning("could not read the Activity tab before taking over (%s); trying again next tick", exc)
            return False, None
        state.mine, state.mine_until, state.standby_logged = holder, until, ""
        log.info("this worker (%s) holds the tick lease in the spreadsheet until %s%s", holder,
                 until.isoformat(timespec="seconds"),
                 f"; {copied} Activity row(s) of an earlier worker copied into the journal" if copied else "")
        return True, True

    def drop(self, holder: str, now: datetime) -> None:
        """A worker that stops writes what it owes the sheet (its last Activity rows) and lets go."""
        if holder not in (self.state.mine, self.state.holder):
            return
        self.read((holder, now, 0.0, True))
        if self.state.mine == holder:
            self.state.mine, self.state.mine_until = "", None

    def requests(self, lease: LeaseWrite, rows: list[list[Any]] | None, layout: Layout) -> list[dict[str, Any]]:
        """The lease cell write this refresh carries: a claim, a renewal, a release, or nothing."""
        holder, now, seconds, leaving = lease
        current, until = parse_lease(rows)
        state = self.state
        state.holder, state.until, state.seen_at, state.pending_until = current, until, time.monotonic(), None
        if leaving:
            if current != holder:
                return []
            state.holder, state.until = "", None
            return self._cells(layout, "", None)
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
        return self._cells(layout, holder, state.pending_until)

    def _cells(self, layout: Layout, holder: str, until: datetime | None) -> list[dict[str, Any]]:
        requests = []
        if LEASE_TAB not in layout.sheet_ids:  # a sheet set up before the lease existed
            layout.sheet_ids[LEASE_TAB] = max(layout.sheet_ids.values(), default=0) + 1
            requests.append(lease_tab_request(layout.sheet_ids[LEASE_TAB]))
            self.save_layout(layout)
        values = [LEASE_LABEL, holder, until.isoformat() if until else ""]
        requests.append({"updateCells": {"start": {"sheetId": layout.sheet_ids[LEASE_TAB], "rowIndex": 0,
                                                   "columnIndex": 0},
                                         "rows": [{"values": [{"userEnteredValue": {"stringValue": v}} if v else {}
                                                              for v in values]}],
                                         "fields": "userEnteredValue"}})
        return requests

    def written(self) -> None:
        """The batched write that carried the lease cell has landed."""
        state = self.state
        if state.pending_until is not None and state.mine and state.holder == state.mine:
            state.mine_until = state.pending_until  # a renewal landed
        state.pending_until = None

    def write(self, requests: list[dict[str, Any]]) -> None:
        """The lease cell alone (when no drain runs in this process to carry it)."""
        try:
            self.api.batch_update(requests, idempotent=True)
        except SheetsUnavailable as exc:
            log.warning("could not write the tick lease (%s)", exc)
            if exc.code == 400:
                self.forget_layout()
            return
        self.written()
