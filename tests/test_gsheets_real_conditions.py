"""Google Sheets under real conditions (issue 19): slow answers, people editing between any two
calls, Google's per-minute quota. Everything goes through gspread over HTTP to the fake."""
from __future__ import annotations

import threading
from collections import Counter

from tests.conftest import load_demo
from tests.gsheets_fixtures import post, sheet_store  # noqa: F401
from tests.speed_fixtures import set_setting


def sheet_leads(fake) -> dict[str, dict]:
    return {r["Lead ID"]: r for r in fake.records("Leads") if r.get("Lead ID")}


# ---- an older read never overwrites a newer local write ---------------------------------------
def test_a_read_taken_before_a_settings_change_never_puts_the_old_value_back(store, fake_sheets):
    load_demo(store)
    set_setting(store, "Tick Seconds", "45")
    held = fake_sheets.hold_next_answer("values.batchGet")
    reader = threading.Thread(target=store.refresh)
    reader.start()
    assert held.handled.wait(10)  # the tick's read has seen Tick Seconds = 45 ...
    set_setting(store, "Tick Seconds", "60")  # ... the owner's 60 reaches the sheet and the replica
    held.release()  # ... and only then does the older read come back
    reader.join(10)
    assert store.config().settings.tick_seconds == 60
    store.refresh()
    assert store.config().settings.tick_seconds == 60
