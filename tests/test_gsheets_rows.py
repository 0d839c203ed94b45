"""What people do to the Leads tab between ticks never costs another lead its row or its values.

A deleted row, a Lead ID typed into a column of people's own, a renamed header, an empty
column inserted at A, a row that ends up in the tab twice: the real store against the fake
Sheets API, driven by the real gspread.
"""
from __future__ import annotations

from collections import Counter

from automations.checks import check_config
from automations.speed_clock.tick import run_tick
from tests.gsheets_fixtures import post, sheet_store  # noqa: F401


def rows_by_id(fake) -> dict[str, dict]:
    return {r["Lead ID"]: r for r in fake.records("Leads")}


def sheet_row(fake, lead_id: str) -> int:
    """The 1-based row number a lead's row has in the tab right now."""
    key = fake.table("Leads")[0].index("Lead ID")
    return next(i for i, r in enumerate(fake.table("Leads")) if len(r) > key and r[key] == lead_id) + 1


# ---- a deleted row ------------------------------------------------------------------------------
def test_deleting_a_lead_whose_id_is_typed_in_another_row_keeps_that_other_row_and_its_cells(store, fake_sheets,
                                                                                             client):
    ids = [post(client, i, last_name=name).get_json()["lead_id"] for i, name in enumerate(["Adams", "Young", "Moss"])]
    store.refresh()
    width = len(fake_sheets.table("Leads")[0])
    fake_sheets.insert_column("Leads", width, "Duplicate Of")  # a column of the agency's own
    fake_sheets.type_in_column("Leads", "Duplicate Of", ids[2], ids[1])  # "Moss is a resubmission of Young"
    fake_sheets.type_in_column("Leads", "Notes", ids[2], "called twice")
    fake_sheets.delete_row("Leads", sheet_row(fake_sheets, ids[1]))  # then Young's row is deleted

    assert store.refresh()
    assert store.refresh()  # and the tick after it

    rows = rows_by_id(fake_sheets)
    assert set(rows) == {ids[0], ids[2]}  # the deleted lead stays deleted; Moss keeps its row
    moss = rows[ids[2]]
    assert (moss["Last Name"], moss["Duplicate Of"], moss["Notes"], moss["Assigned To"]) == (
        "Moss", ids[1], "called twice", "Rachel T.")
    assert [lead.lead_id for lead in store.leads()] == [ids[0], ids[2]]
    assert store.get_lead(ids[2]).last_name == "Moss" and store.get_lead(ids[1]) is None


def test_a_lead_row_deleted_by_a_person_is_not_written_back_by_later_updates(store, fake_sheets, client):
    ids = [post(client, i).get_json()["lead_id"] for i in range(2)]
    store.refresh()
    fake_sheets.delete_row("Leads", sheet_row(fake_sheets, ids[0]))
    store.update_lead(ids[0], {"escalation": "5-minute reminder"})  # the tick had it in hand
    assert store.refresh() and store.refresh()
    assert set(rows_by_id(fake_sheets)) == {ids[1]}


# ---- a renamed header ---------------------------------------------------------------------------
def test_renaming_headers_keeps_every_leads_values_and_init_puts_the_columns_back(store, fake_sheets, client,
                                                                                   clock, notifier):
    lead_id = post(client).get_json()["lead_id"]
    fake_sheets.type_in_column("Leads", "Status", lead_id, "Bound")
    store.refresh()
    run_tick(store, notifier, clock)  # stamps Bound At
    assert (store.get_lead(lead_id).status, store.get_lead(lead_id).assigned_to) == ("Bound", "Sarah M.")

    fake_sheets.rename_header("Leads", "Status", "Lead Status")
    fake_sheets.rename_header("Leads", "Assigned To", "Owner")
    clock.advance(minutes=45)
    sent_before = len(notifier.sent)
    report = run_tick(store, notifier, clock)

    lead = store.get_lead(lead_id)
    assert (lead.lead_id, lead.status, lead.assigned_to) == (lead_id, "Bound", "Sarah M.")
    assert len(notifier.sent) == sent_before and not report.errors  # a closed lead is not escalated
    problems = [p.message for p in check_config(store.config()) if p.tab == "Leads"]
    assert any("'Status'" in m and "'Assigned To'" in m for m in problems), problems

    store.init()  # adds the two headers back at the end, filled from the service's copy
    row = rows_by_id(fake_sheets)[lead_id]
    assert (row["Status"], row["Assigned To"], row["Lead Status"], row["Owner"]) == (
        "Bound", "Sarah M.", "Bound", "Sarah M.")
    store.refresh()
    assert store.get_lead(lead_id).status == "Bound"
    assert not [p for p in check_config(store.config()) if p.tab == "Leads"]


# ---- an empty column A ---------------------------------------------------------------------------
def test_a_new_lead_lands_under_its_headers_after_a_person_inserted_an_empty_column_a(store, fake_sheets, client):
    first = post(client, 1).get_json()["lead_id"]
    store.refresh()
    fake_sheets.insert_column("Leads", 0, None)  # no header, no values: Google's table now starts at B
    store.refresh()
    r = post(client, 2, last_name="Quick")
    assert r.status_code == 201
    rows = rows_by_id(fake_sheets)
    assert set(rows) == {first, r.get_json()["lead_id"]}
    new = rows[r.get_json()["lead_id"]]
    assert (new["Last Name"], new["Status"], new["Assigned To"]) == ("Quick", "New", "James K.")
    assert all(row[0] == "" for row in fake_sheets.table("Leads") if row)  # column A is still empty


# ---- a lead in two rows --------------------------------------------------------------------------
def test_a_lead_that_is_in_the_tab_twice_loses_the_later_copy_even_after_people_sorted(store, fake_sheets, client):
    ids = [post(client, i, last_name=name).get_json()["lead_id"] for i, name in enumerate(["Adams", "Young", "Moss"])]
    store.refresh()
    fake_sheets.copy_row_to_end("Leads", sheet_row(fake_sheets, ids[0]))  # e.g. an append that landed twice
    fake_sheets.sort_rows("Leads", "Last Name", reverse=True)  # Young, Moss, Adams, Adams
    fake_sheets.type_in_column("Leads", "Notes", ids[1], "asked for a callback")

    assert store.refresh()

    assert Counter(r["Lead ID"] for r in fake_sheets.records("Leads")) == {i: 1 for i in ids}
    rows = rows_by_id(fake_sheets)
    assert rows[ids[1]]["Notes"] == "asked for a callback" and rows[ids[0]]["Last Name"] == "Adams"
    assert [lead.lead_id for lead in store.leads()] == ids


def test_two_different_leads_with_one_id_are_both_kept_and_the_owner_is_told(store, fake_sheets, client, caplog):
    ids = [post(client, i).get_json()["lead_id"] for i in range(2)]
    store.refresh()
    fake_sheets.copy_row_to_end("Leads", sheet_row(fake_sheets, ids[0]))
    fake_sheets.type_in_column_at_row("Leads", "Email", len(fake_sheets.table("Leads")), "someone.else@example.com")
    assert store.refresh()
    assert Counter(r["Lead ID"] for r in fake_sheets.records("Leads")) == {ids[0]: 2, ids[1]: 1}
    assert any("with different details" in r.getMessage() for r in caplog.records)


def test_a_renamed_lead_id_header_is_named_by_check_and_init_does_not_add_an_empty_one(store, fake_sheets, client):
    ids = [post(client, i).get_json()["lead_id"] for i in range(2)]
    store.refresh()
    fake_sheets.rename_header("Leads", "Lead ID", "ID")
    assert store.refresh()
    errors = [p.message for p in check_config(store.config()) if p.level == "error" and p.tab == "Leads"]
    assert errors and "rename the column back to 'Lead ID'" in errors[0]
    store.init()  # an empty Lead ID column would make every row a stranger
    assert "Lead ID" not in fake_sheets.table("Leads")[0]
    assert [lead.lead_id for lead in store.leads()] == ids
    fake_sheets.rename_header("Leads", "ID", "Lead ID")
    assert store.refresh()
    assert [lead.lead_id for lead in store.leads()] == ids
    assert not [p for p in check_config(store.config()) if p.tab == "Leads"]
