"""Open the store named by LEADROUTER_STORE (sqlite:///..., postgresql://..., gsheets://ID)."""
from __future__ import annotations

import os
import sqlite3
import urllib.parse

from automations.errors import StoreNotReady
from automations.ports import Store

DEFAULT_STORE = "sqlite:///leads.db"


def open_store(url: str | None = None) -> Store:
    url = (url or DEFAULT_STORE).strip()
    if url.startswith("gsheets://"):
        from .gsheets.store import open_gsheets_store  # imported lazily: gspread is only needed here
        return open_gsheets_store(url)
    if url.startswith(("sqlite", "postgresql", "postgres")):
        from .sql_store import SqlStore
        if url.startswith(("postgres://", "postgresql://")):  # psycopg 3 is the driver we ship with
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return SqlStore(url)
    raise StoreNotReady(f"LEADROUTER_STORE must start with sqlite://, postgresql:// or gsheets:// "
                        f"(it is {url.split('://')[0][:20]}://...)")


def sqlite_path(url: str) -> str | None:
    """The file of a sqlite:/// URL, made absolute (None for an in-memory database or another backend)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.split("?", 1)[0]
    return os.path.abspath(path) if path and path != ":memory:" else None


def open_existing_store(url: str | None = None) -> Store:
    """The store, only if `leadrouter init` made it: a read never creates an empty leads.db (run from the
    wrong folder, the relative default path would otherwise start a second, empty agency there)."""
    url = (url or DEFAULT_STORE).strip()
    path = sqlite_path(url)
    if path is not None and not _sqlite_initialized(path):
        where = "no leadrouter store" if not os.path.exists(path) else "an uninitialized store"
        raise StoreNotReady(f"There is {where} at {path}: run `leadrouter init` (or `leadrouter demo`) in your "
                            "project folder first, or set LEADROUTER_STORE to where your store is")
    store = open_store(url)
    initialized = getattr(store, "initialized", None)
    if initialized is not None and path is None and not initialized():
        store.close()
        raise StoreNotReady("The store named by LEADROUTER_STORE has no leadrouter tables yet: run "
                            "`leadrouter init` first")
    return store


def _sqlite_initialized(path: str) -> bool:
    """Whether the file exists and holds our tables; opened read-only, so nothing is created."""
    if not os.path.isfile(path):
        return False
    try:
        conn = sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='leads'").fetchone() \
                is not None
        finally:
            conn.close()
    except sqlite3.Error:
        return False
