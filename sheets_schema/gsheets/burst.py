"""New leads into the Leads tab: the form's own append at once, a burst's in a few batches.

Google allows 60 write requests a minute per user (a sliding window; see quota.py). One append
per lead is right for a lead now and then: the form's request makes exactly that one call. In a
burst (a campaign, a list import, eight posts at a time) one call per lead would hit the limit
within a minute, and every refused call is retried into the same wall. So:

- a lead is appended on its own request only when no other append is in flight, no batch is
  waiting and our own count of writes in the last minute leaves `reserve` calls for the ticks;
- otherwise it stays in the durable outbox (the form answers 202; the owner is notified anyway)
  and a background sender appends everything waiting in ONE values.append, then waits `spacing`
  seconds (longer when the minute's writes are used up) while more leads gather;
- a 429 puts the batch back and backs off (doubling, at least until our window has room)
  instead of storming; a batch whose fate is unknown (a timeout, a 5xx) is left to the tick,
  which looks for its Lead IDs before anything is sent again (never twice).
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from .outbox import Op, Outbox
from .quota import WriteWindow

log = logging.getLogger("leadrouter.sheets")

SPACING = 1.0  # seconds between batches while a burst lasts
RESERVE = 10  # writes a minute left for the ticks (their batched write, the lease)
MAX_ROWS = 500  # leads in one append
BACKOFF = 2.0  # first wait after a 429, doubled up to BACKOFF_MAX
BACKOFF_MAX = 60.0

# what a send did: "done", "refused" (429: not applied), "unknown" (may have landed), "failed"
Send = Callable[[list[Op], bool], str]


class Batcher:
    def __init__(self, outbox: Outbox, writes: WriteWindow, send: Send, *, spacing: float = SPACING,
                 reserve: int = RESERVE, max_rows: int = MAX_ROWS, backoff: float = BACKOFF) -> None:
        self.outbox, self.writes, self.send = outbox, writes, send
        self.spacing, self.reserve, self.max_rows, self.backoff = spacing, reserve, max_rows, backoff
        self._lock = threading.Lock()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def submit(self, ops_ids: list[int]) -> None:
        """On the form's request: append these now, or leave them to the batch sender."""
        with self._lock:
            direct = (self._in_flight == 0 and not self._sending() and self.writes.room() > self.reserve)
            if not direct:
                self._start()
                return
            self._in_flight += 1
        outcome = "done"
        try:
            ops = self.outbox.claim(ops_ids)
            if ops:
                outcome = self.send(ops, True)
        finally:
            with self._lock:
                self._in_flight -= 1
                if outcome == "refused":  # the quota: the sender tries again after a pause
                    self._start()

    def _sending(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self) -> None:
        if not self._sending() and not self._stopping.is_set():
            self._thread = threading.Thread(target=self._run, name="sheets-batches", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        wait = self.spacing
        refused = 0
        while not self._stopping.wait(max(wait, self.writes.wait_for_room(keep=self.reserve))):
            with self._lock:
                if self._in_flight:
                    wait = self.spacing / 4
                    continue
                ids = self.outbox.due_appends(self.max_rows)
                if not ids:
                    self._thread = None  # under the lock: a post now starts a new sender
                    return
            ops = self.outbox.claim(ids)
            outcome = self.send(ops, False) if ops else "done"
            if outcome == "refused":
                refused += 1
                wait = min(BACKOFF_MAX, self.backoff * 2 ** (refused - 1))
                log.warning("Sheets refused a batch of %d lead(s) (quota); next try in %.0f s", len(ops), wait)
            elif outcome == "done":
                refused, wait = 0, self.spacing
            else:
                with self._lock:  # unknown or failed: the tick takes over (it looks before it re-sends)
                    self._thread = None
                return

    def close(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def settle(self, timeout: float = 60.0) -> None:
        """Until the batch sender has nothing left (tests, benchmarks)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
