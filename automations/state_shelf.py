"""Durable documents kept in the store's private state, for queues that must survive restarts.

Why buckets: one state row per queue would be rewritten whole on every change and become a
point of contention; sixteen rows keyed by a hash of the entry's key keep each write small.
A damaged row or entry is skipped, never allowed to block the others. Writers hold
`store.exclusive()`, as every user of the shelf does.
"""
from __future__ import annotations

import json
import zlib
from typing import Any

from automations.ports import Store

BUCKETS = 16


class StateShelf:
    """JSON documents by key under `prefix` ('outbox', 'ams_queue') in the store's state rows."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def _row(self, key: str) -> str:
        return f"{self.prefix}:{zlib.crc32(key.encode()) % BUCKETS:02d}"

    @staticmethod
    def _load(store: Store, name: str) -> dict[str, Any]:
        try:
            data = json.loads(store.get_state(name) or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def documents(self, store: Store) -> list[Any]:
        """Every document on the shelf, in no particular order."""
        return [doc for b in range(BUCKETS) for doc in self._load(store, f"{self.prefix}:{b:02d}").values()]

    def put(self, store: Store, key: str, document: Any) -> None:
        """Add or replace the document under `key`."""
        name = self._row(key)
        data = self._load(store, name)
        data[key] = document
        store.set_state(name, json.dumps(data, separators=(",", ":")))

    def drop(self, store: Store, key: str) -> None:
        """Remove the document under `key`, if there is one."""
        name = self._row(key)
        data = self._load(store, name)
        if data.pop(key, None) is not None:
            store.set_state(name, json.dumps(data, separators=(",", ":")))
