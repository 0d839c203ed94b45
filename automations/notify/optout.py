"""STOP / START: a lead's texting opt-out, kept in the store's state by phone number.

Checked by `notify.deliver` before every text, so no code path can text an opted-out number.
The same flag, keyed by the lower-cased email address, records an email unsubscribe.

Phones are keyed in E.164, whatever the caller holds: Twilio reports a STOP from
"+12015550142" while the Leads tab may say "(201) 555-0142" (an owner's edit, an import),
and both must name the same opt-out.
"""
from __future__ import annotations

from automations.contact import normalize_phone
from automations.ports import Store


def _keys(address: str) -> list[str]:
    """The state names for this phone (E.164 first) or email. The raw spelling is kept as a second
    name because flags written before phones were normalized live under it."""
    raw = address.strip()
    canonical = raw.lower() if "@" in raw else (normalize_phone(raw) or raw)
    return list(dict.fromkeys(f"optout:{a}" for a in (canonical, raw) if a))


def is_opted_out(store: Store, phone: str) -> bool:
    return bool(phone and phone.strip()) and any(store.get_state(k) == "1" for k in _keys(phone))


def set_opted_out(store: Store, phone: str, opted_out: bool) -> None:
    keys = _keys(phone)
    if not opted_out:  # START clears every spelling, or an old flag would keep blocking
        for key in keys:
            if store.get_state(key) == "1":
                store.set_state(key, "0")
        return
    if keys:
        store.set_state(keys[0], "1")
