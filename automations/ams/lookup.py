"""The existing-client check against the AMS at intake: asked within a small time budget, cached.

A form post must never wait for an AMS: the question runs on a worker thread and the post waits
at most Settings -> AMS Lookup Seconds (0.3 s). An answer that comes later still fills the cache,
so the next post from the same person finds it. After a failure or a time-out the AMS is not
asked for a minute, so a slow or down AMS costs at most one post a minute the budget. Without an
answer the Clients tab decides, as it always does.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor, TimeoutError as Waited
from datetime import datetime, timedelta

from sheets_schema.models import Client

from automations.clock import Clock
from automations.contact import mask

from .port import AMS, AmsClient

log = logging.getLogger("leadrouter.ams")
FOUND_TTL = timedelta(hours=1)
MISS_TTL = timedelta(minutes=10)
PAUSE_AFTER_FAILURE = timedelta(minutes=1)
MAX_CACHE = 5000


class ClientLookup:
    def __init__(self, clock: Clock, workers: int = 2) -> None:
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ams-lookup")
        self._cache: dict[tuple[str, str], tuple[datetime, AmsClient | None]] = {}
        self._paused_until: datetime | None = None
        self._lock = threading.Lock()

    def find(self, ams: AMS, *, email: str, phone: str, last_name: str, budget: float) -> Client | None:
        """The AMS's client for this email/phone as a Clients-tab row, or None (not found, not in
        time, or the AMS is failing)."""
        key = (email.strip().lower(), phone)
        now = self.clock.now()
        with self._lock:
            cached = self._cache.get(key)
            if cached and cached[0] > now:
                return _row(cached[1])
            if self._paused_until and self._paused_until > now:
                return None
        future = self._pool.submit(self._ask, ams, key, email, phone, last_name)
        try:
            return _row(future.result(timeout=budget))
        except Waited:
            with self._lock:  # a slow AMS: the next posts do not wait for it either, for a while
                self._paused_until = self.clock.now() + PAUSE_AFTER_FAILURE
            log.info("AMS client lookup for %s took over %.2f s; the Clients tab decides", mask(email or phone),
                     budget)
            return None
        except Exception:  # noqa: BLE001 - _ask logged it; the Clients tab decides
            return None

    def _ask(self, ams: AMS, key: tuple[str, str], email: str, phone: str, last_name: str) -> AmsClient | None:
        try:
            found = ams.find_client(email=email, phone=phone, last_name=last_name)
        except Exception as exc:  # noqa: BLE001 - any failure: pause, fall back to the tab
            with self._lock:
                self._paused_until = self.clock.now() + PAUSE_AFTER_FAILURE
            log.warning("AMS client lookup failed (%s); not asked again for a minute", type(exc).__name__)
            raise
        with self._lock:
            if len(self._cache) >= MAX_CACHE:
                self._cache.clear()
            self._cache[key] = (self.clock.now() + (FOUND_TTL if found else MISS_TTL), found)
        return found

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _row(client: AmsClient | None) -> Client | None:
    if client is None or not client.csr.strip():
        return None  # a client without a CSR routes like anyone else
    return Client(name=client.name, email=client.email, phone=client.phone, csr=client.csr)
