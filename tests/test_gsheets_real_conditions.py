"""Google Sheets under real conditions (issue 19): slow answers, people editing between any two
calls, Google's per-minute quota. Everything goes through gspread over HTTP to the fake."""
from __future__ import annotations

import threading
from collections import Counter

from tests.conftest import load_demo
from tests.fake_sheets_api import APPEND, col_letters
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


def _drag(fake, header: str, after: str) -> None:
    sheet_id, cols = _columns(fake)
    fake.person({"moveDimension": {  # the UI's drag of a column to just after another
        "source": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": cols[header],
                   "endIndex": cols[header] + 1}, "destinationIndex": cols[after] + 1}})


def test_a_lead_written_just_after_a_person_dragged_email_past_zip_is_put_right_at_once_never_adopted(
        demo_store, fake_sheets, client):
    store = demo_store
    store.refresh()
    _drag(fake_sheets, "Email", after="ZIP")  # a second before the lead arrives: no call of ours in between
    mark = fake_sheets.mark()
    lead_id = post(client, 7, zip="07030").get_json()["lead_id"]
    store.settle()
    # the append read the header row back in its own answer, saw the move and rewrote that row at
    # once: one call for the lead, one for the person's edit, and no tick needed
    assert fake_sheets.kinds(mark) == [APPEND, "spreadsheets.batchUpdate"]
    row = sheet_leads(fake_sheets)[lead_id]
    assert (row["Email"], row["ZIP"]) == ("lead7@example.com", "07030")
    lead = store.get_lead(lead_id)
    assert (lead.email, lead.zip, lead.phone) == ("lead7@example.com", "07030", "+12015550007")
    # the very next lead lands under the right headers, in exactly one call
    mark = fake_sheets.mark()
    other = post(client, 8, zip="07030").get_json()["lead_id"]
    store.settle()
    assert fake_sheets.kinds(mark) == [APPEND]
    assert (sheet_leads(fake_sheets)[other]["Email"], sheet_leads(fake_sheets)[other]["ZIP"]) == \
        ("lead8@example.com", "07030")
    store.refresh()  # and a tick's read never adopts anything from the misplaced moment
    store.refresh()
    assert store.get_lead(lead_id).email == "lead7@example.com"
    assert sheet_leads(fake_sheets)[lead_id]["Email"] == "lead7@example.com"


def test_a_column_a_person_inserts_left_of_phone_never_keeps_a_leads_phone(demo_store, fake_sheets, client):
    store = demo_store
    store.refresh()
    sheet_id, cols = _columns(fake_sheets)
    fake_sheets.person({"insertDimension": {"range": {"sheetId": sheet_id, "dimension": "COLUMNS",
                                                      "startIndex": cols["Phone"], "endIndex": cols["Phone"] + 1}}})
    fake_sheets.type("Leads", f"{chr(65 + cols['Phone'])}1", "Spouse")
    lead_id = post(client, 8, zip="07030").get_json()["lead_id"]
    store.settle()
    row = sheet_leads(fake_sheets)[lead_id]  # before any tick
    assert (row["Spouse"], row["Phone"], row["ZIP"], row["Email"]) == ("", "+12015550008", "07030",
                                                                       "lead8@example.com")
    store.refresh()
    lead = store.get_lead(lead_id)
    assert (lead.phone, lead.zip, lead.email) == ("+12015550008", "07030", "lead8@example.com")
    other = post(client, 9, zip="07030").get_json()["lead_id"]
    row = sheet_leads(fake_sheets)[other]
    assert (row["Spouse"], row["Phone"]) == ("", "+12015550009")


def test_when_the_immediate_repair_is_refused_the_tick_repairs_the_row_and_adopts_nothing(
        demo_store, fake_sheets, client):
    store = demo_store
    store.refresh()
    _drag(fake_sheets, "Email", after="ZIP")
    fake_sheets.fail_next(8, 503, kind="spreadsheets.batchUpdate")  # the repair (and its retries) fail
    lead_id = post(client, 7, zip="07030").get_json()["lead_id"]
    store.settle()
    assert sheet_leads(fake_sheets)[lead_id]["Email"] == "07030"  # still misplaced in the sheet
    fake_sheets.clear_failures()
    store.refresh()  # the tick recognises the row under the older header row and rewrites it
    row = sheet_leads(fake_sheets)[lead_id]
    assert (row["Email"], row["ZIP"]) == ("lead7@example.com", "07030")
    store.refresh()
    assert store.get_lead(lead_id).email == "lead7@example.com"


def test_a_person_adding_a_column_at_the_right_costs_no_repair(demo_store, fake_sheets, client):
    store = demo_store
    store.refresh()
    sheet_id, cols = _columns(fake_sheets)
    fake_sheets.person({"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS", "length": 1}})
    fake_sheets.type("Leads", f"{col_letters(max(cols.values()) + 1)}1", "Spouse")
    mark = fake_sheets.mark()
    lead_id = post(client, 5, zip="07030").get_json()["lead_id"]
    store.settle()
    assert fake_sheets.kinds(mark) == [APPEND]
    assert sheet_leads(fake_sheets)[lead_id]["Email"] == "lead5@example.com"


def test_a_status_the_tick_writes_as_a_person_drags_the_status_column_lands_under_status_and_nothing_else_changes(
        demo_store, fake_sheets, client):
    store = demo_store
    lead_id = post(client, 3, zip="07030").get_json()["lead_id"]
    store.refresh()
    before = sheet_leads(fake_sheets)[lead_id]
    store.update_lead(lead_id, {"status": "Contacted"})  # e.g. the producer's "C" reply: queued for the tick
    held = fake_sheets.hold_next_answer("values.batchGet")  # the tick has read the sheet ...
    tick = threading.Thread(target=store.refresh)
    tick.start()
    assert held.handled.wait(10)
    _drag(fake_sheets, "Status", after="ZIP")  # ... a person drags Status before its write goes out
    held.release()
    tick.join(30)
    after = sheet_leads(fake_sheets)[lead_id]
    assert after["Status"] == "Contacted"
    assert {h: v for h, v in after.items() if h != "Status"} == {h: v for h, v in before.items() if h != "Status"}
    store.refresh()
    store.refresh()  # and nothing of that moment is read back as the lead's details
    lead = store.get_lead(lead_id)
    assert (lead.status, lead.email, lead.zip, lead.phone) == ("Contacted", "lead3@example.com", "07030",
                                                               "+12015550003")
    assert sheet_leads(fake_sheets)[lead_id] == after


# ---- bursts within quota ----------------------------------------------------------------------
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import pytest  # noqa: E402

from app import create_app  # noqa: E402
from tests.fake_sheets_api import Quota  # noqa: E402
from tests.gsheets_fixtures import make_store  # noqa: E402


@pytest.fixture
def burst_store(fake_sheets, service_account_file, tmp_path, waits, clock):
    """The real store, its batches spaced 0.2 s apart and its 429 backoff short (so the test is quick)."""
    store = make_store(fake_sheets, service_account_file, tmp_path / "burst.db", waits, clock=clock,
                       append_timeout=0.5, batching={"spacing": 0.2, "backoff": 0.1})
    store.init()
    load_demo(store)
    # a burst from one test address is load, not abuse: the public limits are off (tests/test_abuse_limits.py)
    settings = store.read_rows("Settings")
    store.replace_rows("Settings", settings + [{"setting": "Form Posts Per Minute", "value": "off"},
                                               {"setting": "Form Posts Per Contact Per Hour", "value": "off"}])
    store.refresh()
    yield store
    store.close()


def burst(store, clock, notifier, count: int, at_a_time: int = 8) -> list:
    client = create_app({"TESTING": True}, store=store, clock=clock, notifier=notifier).test_client()
    with ThreadPoolExecutor(at_a_time) as pool:
        return list(pool.map(lambda i: post(client, i), range(count)))


def test_a_burst_is_written_in_a_few_batched_appends_within_googles_quota_and_never_twice(
        burst_store, fake_sheets, clock, notifier):
    fake_sheets.quota = Quota(limit=60)  # Google's 60 writes a minute per user, a sliding window
    fake_sheets.latency = 0.02
    mark = fake_sheets.mark()
    answers = burst(burst_store, clock, notifier, 120)
    assert {a.status_code for a in answers} <= {201, 202}
    burst_store.settle()
    ids = {a.get_json()["lead_id"] for a in answers}
    assert Counter(r["Lead ID"] for r in fake_sheets.records("Leads")) == {i: 1 for i in ids}
    appends = fake_sheets.count(APPEND, since=mark)
    assert appends <= 30, appends  # 120 leads, a handful of calls (one per lead would be 120)
    assert 429 not in fake_sheets.statuses(since=mark)


def test_a_burst_written_across_a_persons_column_drag_ends_up_under_the_right_headers_once(
        burst_store, fake_sheets, clock, notifier):
    held = fake_sheets.hold_next_answer(APPEND)  # the first lead's append has run; its answer is on the way
    client = create_app({"TESTING": True}, store=burst_store, clock=clock, notifier=notifier).test_client()
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(post, client, 0, zip="07030")
        assert held.handled.wait(10)
        rest = [pool.submit(post, client, i, zip="07030") for i in range(1, 12)]  # queued for the batch sender
        for answer in rest:
            answer.result()
        _drag(fake_sheets, "Email", after="ZIP")  # between that append and the batch's
        held.release()
        answers = [first.result()] + [a.result() for a in rest]
    burst_store.settle()
    number = {a.get_json()["lead_id"]: i for i, a in enumerate(answers)}
    rows = sheet_leads(fake_sheets)
    assert Counter(r["Lead ID"] for r in fake_sheets.records("Leads") if r["Lead ID"] in number) == \
        {lead_id: 1 for lead_id in number}
    assert {lead_id: (rows[lead_id]["Email"], rows[lead_id]["ZIP"]) for lead_id in number} == \
        {lead_id: (f"lead{i}@example.com", "07030") for lead_id, i in number.items()}
    assert burst_store.placement.repaired == len(answers) - 1  # the batch's rows, in its one repair call


def test_a_person_deleting_a_column_a_second_before_a_lead_has_it_written_under_the_new_columns_without_a_tick(
        demo_store, fake_sheets, client):
    store = demo_store
    store.refresh()
    sheet_id, cols = _columns(fake_sheets)
    left_of_email = max(i for i in cols.values() if i < cols["Email"])
    fake_sheets.person({"deleteDimension": {"range": {"sheetId": sheet_id, "dimension": "COLUMNS",
                                                      "startIndex": left_of_email, "endIndex": left_of_email + 1}}})
    mark = fake_sheets.mark()
    answer = post(client, 6, zip="07030")
    # our row is now one column wider than the tab: Google refuses the append (400) and nothing lands;
    # the lead waits in the outbox (202) and the batch sender reads the columns again and writes it
    assert answer.status_code == 202
    store.settle()
    lead_id = answer.get_json()["lead_id"]
    assert [r["Lead ID"] for r in fake_sheets.records("Leads")].count(lead_id) == 1
    row = sheet_leads(fake_sheets)[lead_id]
    assert (row["Email"], row["ZIP"], row["Phone"]) == ("lead6@example.com", "07030", "+12015550006")
    assert fake_sheets.kinds(mark) == [APPEND, "spreadsheets.get", "values.batchGet", APPEND]  # no tick
    assert fake_sheets.statuses(since=mark)[400] == 1


def test_a_batch_refused_with_429_backs_off_and_lands_once(burst_store, fake_sheets, clock, notifier):
    fake_sheets.latency = 0.02
    mark = fake_sheets.mark()
    fake_sheets.fail_next(3, 429, kind=APPEND)
    answers = burst(burst_store, clock, notifier, 40)
    burst_store.settle()
    ids = {a.get_json()["lead_id"] for a in answers}
    assert Counter(r["Lead ID"] for r in fake_sheets.records("Leads")) == {i: 1 for i in ids}
    appends = [c for c in fake_sheets.calls[mark:] if c.kind == APPEND]
    refused = [c.at for c in appends if c.status == 429]
    assert len(refused) == 3
    gaps = [b - a for a, b in zip(refused, refused[1:])]
    assert all(later >= earlier for earlier, later in zip(gaps, gaps[1:])) or len(gaps) < 2  # backing off
    assert len(appends) <= 15


def test_an_abandoned_batch_append_that_still_lands_is_never_written_twice(burst_store, fake_sheets, clock,
                                                                            notifier):
    fake_sheets.slow_next(APPEND, 1.0, count=3)  # Google takes 1 s; we give up after 0.5 s
    answers = burst(burst_store, clock, notifier, 24)
    burst_store.settle()
    fake_sheets.wait_idle()
    ids = {a.get_json()["lead_id"] for a in answers}
    burst_store.refresh()  # the tick looks for them first
    clock.advance(seconds=61)  # past the grace period of the appends we gave up on
    burst_store.refresh()
    burst_store.refresh()
    assert Counter(r["Lead ID"] for r in fake_sheets.records("Leads")) == {i: 1 for i in ids}


# ---- the tick under pressure ------------------------------------------------------------------
def test_a_tick_that_meets_429s_gives_up_within_half_its_interval_and_the_next_one_catches_up(
        demo_store, fake_sheets, client, waits):
    store = demo_store
    store.refresh()
    assert store.config().settings.tick_seconds == 30
    fake_sheets.fail_next(1000, 429)  # every call refused for now
    lead_id = post(client, 3).get_json()["lead_id"]
    waits.clear()
    mark = fake_sheets.mark()
    assert store.refresh() is False
    assert sum(waits) <= 15  # half of Tick Seconds, backoff included
    assert fake_sheets.count(since=mark) <= 5
    fake_sheets._failures.clear()
    assert store.refresh()
    assert lead_id in sheet_leads(fake_sheets)


def test_sorting_filtering_and_deleting_rows_through_the_ui_never_mislead_the_service(
        demo_store, fake_sheets, client):
    store = demo_store
    ids = [post(client, i, last_name=name).get_json()["lead_id"] for i, name in enumerate(["Adams", "Young", "Moss"])]
    store.refresh()
    sheet_id, cols = _columns(fake_sheets)
    fake_sheets.type_in_column("Leads", "Status", ids[1], "Lost")
    fake_sheets.person(
        {"sortRange": {"range": {"sheetId": sheet_id, "startRowIndex": 1},
                       "sortSpecs": [{"dimensionIndex": cols["Last Name"], "sortOrder": "DESCENDING"}]}},
        {"setBasicFilter": {"filter": {"range": {"sheetId": sheet_id},
                                       "criteria": {str(cols["Status"]): {"hiddenValues": ["Lost"]}}}}})
    assert fake_sheets.sheets["Leads"].hidden_rows  # Young's row is hidden from people's view
    fake_sheets.type_in_column("Leads", "Status", ids[2], "contacted")  # typed into the sorted row
    row = next(r for r, cells in enumerate(fake_sheets.table("Leads")) if ids[0] in cells)
    fake_sheets.person({"deleteDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS",
                                                      "startIndex": row, "endIndex": row + 1}}})
    new_id = post(client, 5, last_name="Baker").get_json()["lead_id"]
    store.refresh()
    assert store.get_lead(ids[2]).status == "Contacted" and store.get_lead(ids[1]).status == "Lost"
    assert store.get_lead(ids[0]) is None  # deleted by a person: gone for the service too
    rows = sheet_leads(fake_sheets)
    assert set(rows) == {ids[1], ids[2], new_id}
    assert (rows[ids[1]]["Last Name"], rows[new_id]["Last Name"]) == ("Young", "Baker")


def test_a_form_append_refused_by_the_quota_is_sent_again_by_the_batch_sender_without_waiting_for_a_tick(
        burst_store, fake_sheets, clock, notifier):
    fake_sheets.fail_next(2, 429, kind=APPEND)  # the append and its one short retry
    client = create_app({"TESTING": True}, store=burst_store, clock=clock, notifier=notifier).test_client()
    answer = post(client, 1)
    assert answer.status_code == 202
    mark = fake_sheets.mark()
    burst_store.settle()
    assert fake_sheets.kinds(mark) == [APPEND]  # no read: the batch sender, not a tick
    assert answer.get_json()["lead_id"] in sheet_leads(fake_sheets)
