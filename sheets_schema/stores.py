"""Open the store named by LEADROUTER_STORE (sqlite:///..., postgresql://..., gsheets://ID)."""
from __future__ import annotations

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
    raise ValueError(f"LEADROUTER_STORE must start with sqlite://, postgresql:// or gsheets:// (got {url[:30]!r})")
