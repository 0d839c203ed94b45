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


# ---- people edit while we write ---------------------------------------------------------------
def _columns(fake, *, sheet: str = "Leads") -> tuple[int, dict[str, int]]:
    headers = fake.table(sheet)[0]
    return fake.sheets[sheet].sheet_id, {h: i for i, h in enumerate(headers) if h}


def test_a_lead_written_just_after_a_person_dragged_email_past_zip_is_repaired_never_adopted(
        demo_store, fake_sheets, client):
    store = demo_store
    store.refresh()
    sheet_id, cols = _columns(fake_sheets)
    fake_sheets.person({"moveDimension": {  # the UI's drag of the Email column to just after ZIP
        "source": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": cols["Email"],
                   "endIndex": cols["Email"] + 1}, "destinationIndex": cols["ZIP"] + 1}})
    mark = fake_sheets.mark()
    lead_id = post(client, 7, zip="07030").get_json()["lead_id"]
    assert fake_sheets.kinds(mark) == ["values.append"]  # still one call for the lead
    store.refresh()  # the tick's one read and one batched write
    lead = store.get_lead(lead_id)
    assert (lead.email, lead.zip, lead.phone) == ("lead7@example.com", "07030", "+12015550007")
    row = sheet_leads(fake_sheets)[lead_id]
    assert (row["Email"], row["ZIP"]) == ("lead7@example.com", "07030")
    store.refresh()
    assert store.get_lead(lead_id).email == "lead7@example.com"


def test_a_column_a_person_inserts_left_of_phone_never_receives_a_leads_phone(demo_store, fake_sheets, client):
    store = demo_store
    store.refresh()
    sheet_id, cols = _columns(fake_sheets)
    fake_sheets.person({"insertDimension": {"range": {"sheetId": sheet_id, "dimension": "COLUMNS",
                                                      "startIndex": cols["Phone"], "endIndex": cols["Phone"] + 1}}})
    fake_sheets.type("Leads", f"{chr(65 + cols['Phone'])}1", "Spouse")
    lead_id = post(client, 8, zip="07030").get_json()["lead_id"]
    store.refresh()
    lead = store.get_lead(lead_id)
    assert (lead.phone, lead.zip, lead.email) == ("+12015550008", "07030", "lead8@example.com")
    row = sheet_leads(fake_sheets)[lead_id]
    assert (row["Spouse"], row["Phone"], row["ZIP"], row["Email"]) == ("", "+12015550008", "07030",
                                                                       "lead8@example.com")
    # the next lead lands under the right headers straight away (the tick has read them)
    other = post(client, 9, zip="07030").get_json()["lead_id"]
    row = sheet_leads(fake_sheets)[other]
    assert (row["Spouse"], row["Phone"]) == ("", "+12015550009")
