"""Our own count of the write calls we made in the last minute (Google allows 60 per user).

Google meters Sheets requests per user and per minute, reads and writes separately, as a
sliding window, and answers 429 RESOURCE_EXHAUSTED past it. Counting our own writes lets the
store stay inside it instead of finding the limit by being refused: the form's append goes out
at once while there is room, and a burst waits in the outbox to be sent in batches.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

WRITES_PER_MINUTE = 60  # Google's default "Write requests per minute per user"
WINDOW = 60.0


class WriteWindow:
    """The times of our write calls in the last `window` seconds (thread-safe)."""

    def __init__(self, limit: int = WRITES_PER_MINUTE, window: float = WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._times: list[float] = []
        self._lock = threading.Lock()

    def _trim(self, now: float) -> None:
        self._times = [t for t in self._times if t > now - self.window]

    def record(self) -> None:
        with self._lock:
            now = self.clock()
            self._trim(now)
            self._times.append(now)

    def used(self) -> int:
        with self._lock:
            self._trim(self.clock())
            return len(self._times)

    def room(self) -> int:
        return self.limit - self.used()

    def wait_for_room(self, keep: int = 0) -> float:
        """Seconds until a write leaves `keep` slots free (0 when there is room now)."""
        with self._lock:
            now = self.clock()
            self._trim(now)
            over = len(self._times) - (self.limit - keep - 1)
            if over <= 0:
                return 0.0
            return max(0.0, self._times[over - 1] + self.window - now)
