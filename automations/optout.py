"""STOP / START: a lead's texting opt-out, kept in the store's state by phone number.

Checked by `notify.deliver` before every text, so no code path can text an opted-out number.
The same flag, keyed by the lower-cased email address, records an email unsubscribe.
"""
from __future__ import annotations

from .ports import Store


def _key(phone: str) -> str:
    return f"optout:{phone}"


def is_opted_out(store: Store, phone: str) -> bool:
    return bool(phone) and store.get_state(_key(phone)) == "1"


def set_opted_out(store: Store, phone: str, opted_out: bool) -> None:
    store.set_state(_key(phone), "1" if opted_out else "0")
