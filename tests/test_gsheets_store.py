"""The Google Sheets store against a fake Sheets v4 API on loopback, driven by the real gspread.

People edit the sheet between ticks (the fake's helpers play their part); Google misbehaves
(429 storms, outages, answers lost after a write landed). Nothing is lost, nothing is
written twice, and the call budget holds.
"""
from __future__ import annotations

from collections import Counter

from app import create_app
from sheets_schema.gsheets.store import GSheetsStore
from tests.conftest import lead_payload
from tests.fake_sheets_api import formatted
from tests.gsheets_fixtures import make_store, post, sheet_store  # noqa: F401


def sheet_leads(fake) -> list[dict]:
    return fake.records("Leads")


def ids_in_sheet(fake) -> Counter:
    return Counter(row["Lead ID"] for row in sheet_leads(fake))


# ---- leadrouter init ---------------------------------------------------------------------
def test_init_creates_every_tab_with_frozen_headers_notes_formats_a_status_dropdown_and_warnings(store, fake_sheets):
    tabs = fake_sheets.sheets
    for name in ("Producers", "Territories", "Weights", "Sources", "Lines", "Clients", "Templates", "Settings",
                 "Form Fields", "Leads", "Activity"):
        assert name in tabs and tabs[name].frozen_rows == 1
    leads = tabs["Leads"]
    headers = [c.value for c in leads.grid[0]]
    assert headers[:3] == ["Lead ID", "Received At", "First Name"]
    status = headers.index("Status")
    rule = leads.validations[status]
    assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == ["New", "Contacted", "Quoted", "Bound", "Lost"]
    assert leads.column_formats[headers.index("Received At")]["type"] == "DATE_TIME"
    assert leads.column_formats[headers.index("Premium")]["type"] == "CURRENCY"
    assert leads.column_formats[headers.index("ZIP")]["type"] == "TEXT"
    assert "Change it when you reach the lead" in leads.grid[0][status].note
    assert "Yours to edit" in leads.grid[0][status].note
    assert "Written by leadrouter" in leads.grid[0][0].note
    protected = {pr["range"]["startColumnIndex"] for pr in leads.protected}
    assert headers.index("Assigned To") in protected and status not in protected
    assert all(pr["warningOnly"] for pr in leads.protected)


def test_running_init_again_keeps_peoples_data_and_extra_columns(store, fake_sheets, client):
    lead_id = post(client).get_json()["lead_id"]
    fake_sheets.insert_column("Leads", 3, "Spouse", fill="Ana")
    before = len(fake_sheets.sheets["Leads"].protected)
    store.init()
    rows = sheet_leads(fake_sheets)
    assert [r["Lead ID"] for r in rows] == [lead_id] and rows[0]["Spouse"] == "Ana"
    headers = fake_sheets.table("Leads")[0]
    assert headers.count("Lead ID") == 1 and headers.count("Spouse") == 1
    assert len(fake_sheets.sheets["Leads"].protected) == before  # replaced, not piled up
    assert store.get_lead(lead_id).assigned_to == "Sarah M."


# ---- call budget ---------------------------------------------------------------------------
def test_a_new_lead_costs_one_write_call_and_an_idle_tick_one_read(store, fake_sheets, client):
    store.refresh()
    mark = fake_sheets.mark()
    r = post(client)
    assert r.status_code == 201
    assert fake_sheets.kinds(mark) == ["batchUpdate.appendCells"]
    mark = fake_sheets.mark()
    store.refresh()  # mirrors the new Activity rows
    assert fake_sheets.kinds(mark) == ["values.batchGet", "spreadsheets.batchUpdate"]
    mark = fake_sheets.mark()
    store.refresh()
    assert fake_sheets.kinds(mark) == ["values.batchGet"]


def test_config_is_cached_between_ticks_and_an_owner_edit_is_seen_after_one(demo_store, fake_sheets):
    store = demo_store
    assert store.config().settings.agency_name
    mark = fake_sheets.mark()
    rows = fake_sheets.table("Settings")
    row = next(i for i, r in enumerate(rows) if r and r[0] == "Agency Name")
    fake_sheets.type("Settings", f"B{row + 1}", "Harbor Insurance")
    assert store.config().settings.agency_name != "Harbor Insurance"
    assert fake_sheets.count(since=mark) == 0
    store.refresh()
    assert store.config().settings.agency_name == "Harbor Insurance"


# ---- people editing the sheet --------------------------------------------------------------
def test_people_may_reorder_add_columns_sort_rows_and_type_lower_case_between_ticks(store, fake_sheets, client):
    ids = [post(client, i, last_name=name).get_json()["lead_id"] for i, name in enumerate(["Adams", "Young", "Moss"])]
    store.refresh()
    fake_sheets.move_column("Leads", "Status", 0)
    fake_sheets.insert_column("Leads", 2, "Spouse", fill="-")
    fake_sheets.sort_rows("Leads", "Last Name", reverse=True)
    fake_sheets.hide_column("Leads", 5)
    fake_sheets.type_in_column("Leads", "Status", ids[0], "contacted")
    store.refresh()
    assert store.get_lead(ids[0]).status == "Contacted"
    assert [lead.lead_id for lead in store.leads()] == ids  # still oldest first
    store.update_lead(ids[2], {"escalation": "5-minute reminder", "premium": 1200.0})
    store.refresh()
    rows = {r["Lead ID"]: r for r in sheet_leads(fake_sheets)}
    assert rows[ids[2]]["Escalation"] == "5-minute reminder" and rows[ids[2]]["Premium"] == 1200
    assert rows[ids[0]]["Escalation"] == "" and rows[ids[1]]["Escalation"] == ""
    assert all(r["Spouse"] == "-" for r in rows.values())
    new_id = post(client, 9, last_name="Baker").get_json()["lead_id"]
    row = {r["Lead ID"]: r for r in sheet_leads(fake_sheets)}[new_id]
    assert (row["Last Name"], row["Status"], row["Spouse"]) == ("Baker", "New", "")


def test_a_row_deleted_by_a_person_does_not_stop_the_service(store, fake_sheets, client):
    ids = [post(client, i).get_json()["lead_id"] for i in range(3)]
    store.refresh()
    row = next(i for i, r in enumerate(fake_sheets.table("Leads")) if r and r[0] == ids[1])
    store.update_lead(ids[1], {"escalation": "15-minute warning"})
    fake_sheets.delete_row("Leads", row + 1)
    assert store.refresh()
    assert [lead.lead_id for lead in store.leads()] == [ids[0], ids[2]]
    assert store.refresh()
    assert post(client, 7).status_code == 201
    assert sorted(ids_in_sheet(fake_sheets).values()) == [1, 1, 1]


def test_public_text_is_written_raw_and_times_and_money_as_real_values(store, fake_sheets, client):
    r = post(client, first_name='=IMPORTXML("http://x","//a")', current_carrier="+1+1", zip="02134")
    assert r.status_code == 201, r.get_json()
    lead_id = r.get_json()["lead_id"]
    store.update_lead(lead_id, {"premium": 1250.5})
    store.refresh()
    sheet = fake_sheets.sheets["Leads"]
    headers = [c.value for c in sheet.grid[0]]
    cell = sheet.grid[1][headers.index("First Name")]
    assert cell.value == '=IMPORTXML("http://x","//a")' and cell.formula is None
    carrier = sheet.grid[1][headers.index("Current Carrier")]  # typed, Sheets would make it the formula =+1+1
    assert carrier.value == "+1+1" and carrier.formula is None
    assert sheet.grid[1][headers.index("ZIP")].value == "02134"
    received = headers.index("Received At")
    assert isinstance(sheet.grid[1][received].value, float)  # a real date-time, in the sheet's time zone:
    assert formatted(sheet.grid[1][received].value, sheet.number_format(1, received)).startswith("2026-11-24 10:00")
    assert sheet.grid[1][headers.index("Premium")].value == 1250.5
    lead = store.get_lead(lead_id)
    assert lead.first_name.startswith("=IMPORTXML") and lead.zip == "02134" and lead.premium == 1250.5


def test_a_zip_typed_by_a_person_keeps_its_leading_zero(demo_store, fake_sheets):
    store = demo_store
    fake_sheets.type("Territories", "B2", "02134")
    store.refresh()
    assert store.config().territories[0].zip_from == "02134"


# ---- Google misbehaving -------------------------------------------------------------------
def test_a_single_429_on_the_form_path_is_ridden_out_with_one_short_retry(store, fake_sheets, client, waits):
    fake_sheets.fail_next(1, 429)
    r = post(client)
    assert r.status_code == 201
    assert waits == [0.15]  # short: the form answers within a second
    assert ids_in_sheet(fake_sheets) == {r.get_json()["lead_id"]: 1}


def test_reads_ride_out_a_429_storm_with_backoff(store, fake_sheets, waits):
    fake_sheets.fail_next(2, 429)
    assert store.refresh()
    assert len(waits) == 2 and waits[1] > waits[0]


def test_a_long_429_storm_queues_the_lead_answers_202_and_still_notifies_the_owner(store, fake_sheets, client,
                                                                                    notifier):
    fake_sheets.fail_next(3, 429)
    r = post(client)
    assert r.status_code == 202
    lead_id = r.get_json()["lead_id"]
    assert r.get_json()["assigned_to"] == "Sarah M."
    assert sorted(m.channel for m in notifier.sent) == ["email", "sms"]
    assert ids_in_sheet(fake_sheets) == {}
    assert store.refresh()
    assert ids_in_sheet(fake_sheets) == {lead_id: 1}
    assert not store.queued(lead_id)


def test_a_ten_minute_outage_with_50_leads_loses_none_and_writes_each_once(store, fake_sheets, client, clock,
                                                                           notifier):
    store.refresh()
    fake_sheets.down = True
    answers = []
    for i in range(50):
        answers.append(post(client, i))
        clock.advance(seconds=12)
        if i % 10 == 9:
            assert store.refresh() is False  # the tick carries on from the local copy
    assert {a.status_code for a in answers} == {202}
    ids = [a.get_json()["lead_id"] for a in answers]
    assert len(set(ids)) == 50
    assert len([m for m in notifier.sent if m.channel == "sms"]) == 50
    assert len(store.leads()) == 50
    fake_sheets.down = False
    assert store.refresh()
    assert ids_in_sheet(fake_sheets) == {lead_id: 1 for lead_id in ids}
    assert store.refresh()
    assert ids_in_sheet(fake_sheets) == {lead_id: 1 for lead_id in ids}
    events = Counter((r["Lead ID"], r["Event"]) for r in fake_sheets.records("Activity"))
    assert all(events[(lead_id, "received")] == 1 and events[(lead_id, "sms sent")] == 1 for lead_id in ids)


def test_the_outbox_drains_after_a_restart(store, fake_sheets, client, service_account_file, tmp_path, waits):
    store.refresh()
    fake_sheets.down = True
    ids = [post(client, i).get_json()["lead_id"] for i in range(5)]
    store.close()  # the process stops during the outage
    fake_sheets.down = False
    restarted = make_store(fake_sheets, service_account_file, tmp_path / "journal.db", waits)
    try:
        assert all(restarted.queued(lead_id) for lead_id in ids)
        assert restarted.refresh()
        assert ids_in_sheet(fake_sheets) == {lead_id: 1 for lead_id in ids}
        assert not any(restarted.queued(lead_id) for lead_id in ids)
    finally:
        restarted.close()
    store.local.engine.dispose()


def test_an_append_that_landed_but_lost_its_answer_is_not_written_again(store, fake_sheets, client):
    fake_sheets.lose_next_answers(1)
    r = post(client)
    assert r.status_code == 202  # we cannot know it landed ...
    lead_id = r.get_json()["lead_id"]
    assert store.refresh()  # ... so the tick looks for its Lead ID before appending
    assert ids_in_sheet(fake_sheets) == {lead_id: 1}
    assert not store.queued(lead_id)


def test_an_activity_batch_that_lost_its_answer_is_mirrored_once(store, fake_sheets, client):
    lead_id = post(client).get_json()["lead_id"]
    fake_sheets.lose_next_answers(1)
    assert store.refresh()  # the batch lands, the answer is lost
    assert store.refresh()  # looks before writing again
    events = [r["Event"] for r in fake_sheets.records("Activity") if r["Lead ID"] == lead_id]
    assert events == [a.event for a in store.activity(lead_id)]


def test_a_post_is_answered_even_when_the_sheet_is_slow_to_come_back(store, fake_sheets, clock, notifier, waits):
    """The minute-0 text does not wait for the sheet: the claim lives in the local journal."""
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=store, clock=clock, notifier=notifier)
    fake_sheets.down = True
    r = app.test_client().post("/leads", json=lead_payload())
    assert r.status_code == 202
    assert [a.event for a in store.activity(r.get_json()["lead_id"])][:2] == ["received", "assigned"]
    assert waits == []  # an append is never retried blindly on a 503
    assert isinstance(store, GSheetsStore)


def test_leadrouter_init_demo_sets_up_a_shared_sheet_from_the_environment(fake_sheets, service_account_file,
                                                                         tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_file))
    monkeypatch.setenv("LEADROUTER_SHEETS_API", fake_sheets.url)
    monkeypatch.setenv("LEADROUTER_JOURNAL", str(tmp_path / "cli-journal.db"))
    monkeypatch.setenv("LEADROUTER_STORE", f"gsheets://{fake_sheets.spreadsheet_id}")
    app = create_app({"TESTING": True})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init", "--demo"])
        assert result.exit_code == 0, result.output
        assert "gsheets://" in result.output
        assert [r["Name"] for r in fake_sheets.records("Producers")][:2] == ["Sarah M.", "James K."]
        result = app.test_cli_runner().invoke(args=["check"])
        assert result.exit_code == 0, result.output
        app.extensions["leadrouter"].close()
    assert any(c.kind == "token" for c in fake_sheets.calls)  # the key file's own token_uri was used


def test_concurrent_posts_each_land_in_the_sheet_once_and_keep_the_rotation(store, fake_sheets, client):
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda i: post(client, i), range(12)))
    # 201: in the sheet already; 202: saved, in the next batch append (a burst is being batched)
    assert {a.status_code for a in answers} <= {201, 202}
    store.settle()
    ids = [a.get_json()["lead_id"] for a in answers]
    assert ids_in_sheet(fake_sheets) == {lead_id: 1 for lead_id in ids}
    assert Counter(a.get_json()["assigned_to"] for a in answers) == {
        "Sarah M.": 3, "James K.": 3, "Rachel T.": 3, "David L.": 3}


def test_a_server_that_never_read_the_sheet_refuses_posts_while_it_is_down(demo_store, fake_sheets,
                                                                          service_account_file, tmp_path, clock,
                                                                          notifier, waits):
    fresh = make_store(fake_sheets, service_account_file, tmp_path / "fresh-journal.db", waits)
    try:
        fake_sheets.down = True
        app = create_app({"TESTING": True, "SEND_INLINE": True}, store=fresh, clock=clock, notifier=notifier)
        r = app.test_client().post("/leads", json=lead_payload())
        assert r.status_code == 503 and "store" in r.get_json()["errors"]
        assert len(notifier.sent) == 0 and fresh.local.leads() == []
        fake_sheets.down = False
        r = app.test_client().post("/leads", json=lead_payload())
        assert r.status_code == 201 and r.get_json()["assigned_to"] == "Sarah M."
    finally:
        fresh.close()


def test_a_lead_written_just_as_columns_moved_is_put_right_at_the_next_tick(store, fake_sheets, client):
    first = post(client, 1).get_json()["lead_id"]
    store.refresh()
    fake_sheets.move_column("Leads", "Lead ID", 5)  # a person moves columns; no tick has seen it yet
    fake_sheets.move_column("Leads", "Status", 0)
    second = post(client, 2, last_name="Quick").get_json()["lead_id"]  # written under the old layout
    assert store.refresh()
    assert [lead.lead_id for lead in store.leads()] == [first, second]
    assert store.refresh()
    rows = {r["Lead ID"]: r for r in sheet_leads(fake_sheets)}
    assert set(rows) == {first, second}
    assert (rows[second]["Last Name"], rows[second]["Status"], rows[second]["Assigned To"]) == (
        "Quick", "New", "James K.")
    assert store.get_lead(second).last_name == "Quick"


def test_a_web_process_and_a_worker_sharing_the_journal_mirror_each_activity_row_once(
        store, fake_sheets, client, service_account_file, tmp_path, waits):
    import threading
    lead_id = post(client).get_json()["lead_id"]
    worker = make_store(fake_sheets, service_account_file, tmp_path / "journal.db", waits)
    try:
        fake_sheets.latency = 0.05  # both refreshes are in flight at once
        threads = [threading.Thread(target=s.refresh) for s in (store, worker)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        fake_sheets.latency = 0
        store.refresh()
        worker.refresh()
    finally:
        worker.close()
    events = [r["Event"] for r in fake_sheets.records("Activity") if r["Lead ID"] == lead_id]
    assert events == [a.event for a in store.activity(lead_id)]


def test_init_writes_the_dashboard_tab_with_live_formulas_and_two_charts(store, fake_sheets):
    from sheets_schema.dashboard import FIGURES
    dashboard = fake_sheets.sheets["Dashboard"]
    todays_leads = FIGURES["today_leads"]
    col = ord(todays_leads[0]) - 65
    cell = dashboard.cell(int(todays_leads[1:]) - 1, col)
    assert cell.formula.startswith("=") and "Leads!" in cell.formula  # a formula over the Leads tab, not a number
    assert len(dashboard.charts) == 2
    store.init()  # again: formulas rewritten, charts not doubled
    assert len(fake_sheets.sheets["Dashboard"].charts) == 2
