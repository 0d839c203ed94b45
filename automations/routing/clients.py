"""Existing clients: the Clients tab row a lead belongs to, matched by email or phone.

An AMS export can hold thousands of clients and the tab is re-read for every lead, so the
lookup is an index built once per distinct tab content (normalizing a phone costs ~20 µs;
doing it per client per lead would cost more than the whole routing decision).
"""
from __future__ import annotations

from functools import lru_cache

from sheets_schema.models import Client, Lead

from ..contact import normalize_phone


def find_client(lead: Lead, clients: tuple[Client, ...]) -> Client | None:
    """The first client with the lead's email, else the first with its phone (E.164)."""
    if not clients:
        return None
    index = _index_of(clients)
    email = lead.email.strip().lower()
    i = index.get(("email", email)) if email else None
    if i is None and lead.phone:
        i = index.get(("phone", lead.phone))
    return clients[i] if i is not None else None


_last: list = [((), {})]  # the last (clients, index): one snapshot asks again and again


def _index_of(clients: tuple[Client, ...]) -> dict[tuple[str, str], int]:
    seen, index = _last[0]
    if seen is not clients:
        index = _index(tuple((c.email, c.phone) for c in clients))
        _last[0] = (clients, index)
    return index


@lru_cache(maxsize=8)
def _index(pairs: tuple[tuple[str, str], ...]) -> dict[tuple[str, str], int]:
    index: dict[tuple[str, str], int] = {}
    for i, (email, phone) in enumerate(pairs):
        if email and email.strip():
            index.setdefault(("email", email.strip().lower()), i)
        e164 = normalize_phone(phone) if phone and phone.strip() else None
        if e164:
            index.setdefault(("phone", e164), i)
    return index
