"""Nothing lost at the door: refused posts are kept whole, replayed once, and each form's keys shown."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import lead_payload

FIXTURES = Path(__file__).parent / "fixtures" / "intake"


def _refused_gravity_post(client):
    body = (FIXTURES / "gravity_form7.json").read_bytes()  # no Form Fields rows for form 7 yet: refused
    return client.post("/leads", data=body, content_type="application/json")


def test_a_refused_post_is_kept_whole_and_listed(client, runner, demo_store):
    r = _refused_gravity_post(client)
    assert r.status_code == 422 and "first_name" in r.get_json()["errors"]
    out = runner.invoke(args=["rejected", "--json"])
    rows = json.loads(out.output)
    assert len(rows) == 1 and rows[0]["rejected_id"] == "R-1" and rows[0]["form"] == "7"
    assert "first_name: required" in rows[0]["errors"] and rows[0]["replayed_as"] == "" and rows[0]["source"] == ""
    kept = demo_store.get_rejected("R-1")
    assert kept.body.encode() == (FIXTURES / "gravity_form7.json").read_bytes()


def test_replay_after_fixing_form_fields_makes_one_lead_exactly_once(client, runner, demo_store):
    _refused_gravity_post(client)
    demo_store.replace_rows("Form Fields", [
        dict(key="1", field="full_name", form="7"), dict(key="2", field="insurance_type", form="7"),
        dict(key="3", field="email", form="7"), dict(key="4.5", field="zip", form="7"),
        dict(key="5", field="phone", form="7")])
    first = runner.invoke(args=["replay", "R-1"])
    assert first.exit_code == 0, first.output
    lead_id = first.output.split()[0]
    lead = demo_store.get_lead(lead_id)
    assert lead.first_name == "Dan" and lead.insurance_type == "BOP"
    again = runner.invoke(args=["replay", "R-1"])
    assert again.exit_code == 0 and again.output.split()[0] == lead_id and "replayed before" in again.output
    assert len(demo_store.leads()) == 1
    assert json.loads(runner.invoke(args=["rejected", "--json"]).output)[0]["replayed_as"] == lead_id


def test_a_replay_still_refused_says_why_and_makes_nothing(client, runner, demo_store):
    _refused_gravity_post(client)
    out = runner.invoke(args=["replay", "R-1"])
    assert out.exit_code == 1 and "still refused" in out.output and demo_store.leads() == []


def test_honeypot_hits_are_not_kept(client, demo_store):
    client.post("/leads", json=lead_payload(website="http://spam.example"))
    assert demo_store.rejected() == []


def test_the_manager_hears_once_a_day_per_form(client, demo_store, notifier):
    _refused_gravity_post(client)
    _refused_gravity_post(client)
    notices = [m for m in notifier.sent if m.template == "manager_rejected"]
    assert [(m.recipient, m.channel) for m in notices] == [("Morgan P.", "email")]
    assert "R-1" in notices[0].body and "leadrouter replay" in notices[0].body


def test_forms_shows_each_key_of_the_last_submission_and_where_it_went(client, runner):
    _refused_gravity_post(client)
    out = runner.invoke(args=["forms"]).output
    assert "4.5 → (unmapped, kept in Notes)" in out and "3 → phone" in out  # the demo's rows for every form
    client.post("/leads", data={"1.3": "Ann", "1.6": "Lee", "2": "ann@example.com", "3": "2015550150",
                                "4": "10150", "5": "Home", "form_id": "3"})
    shown = json.loads(runner.invoke(args=["forms", "--json"]).output)
    form3 = next(f for f in shown if f["form"] == "3")
    assert {"key": "1.3", "field": "first_name"} in form3["keys"] and form3["outcome"].startswith("L-")


def test_the_rejected_table_is_capped_oldest_first(demo_store, clock):
    from automations.intake import rejected
    for i in range(5):
        rejected.keep(demo_store, clock.now(), raw=b"x" * 10, content_type="text/plain", errors={"body": str(i)})
    demo_store.add_rejected(demo_store.rejected()[0].model_copy(), 3, 10_000)
    assert [r.rejected_id for r in demo_store.rejected()] == ["R-4", "R-5", "R-6"]


def test_a_refused_jotform_multipart_post_is_kept_byte_for_byte_and_replays(client, runner, demo_store):
    from automations.intake.rejected import body_bytes
    body = (FIXTURES / "jotform_renters.multipart").read_bytes()
    body = body.replace(b'"q7_whatDo"', b'"q7_plan"').replace(b"What do you need covered?:", b"Plan:")
    content_type = (FIXTURES / "jotform.content-type").read_text()
    r = client.post("/leads", data=body, content_type=content_type)
    assert r.status_code == 422 and r.get_json()["errors"] == {"insurance_type": "required"}
    kept = demo_store.rejected()[0]
    assert kept.content_type == content_type and kept.form == "Renters Quote (243231271343446)"
    assert body_bytes(kept) == body
    demo_store.replace_rows("Form Fields", [dict(key="Plan", field="insurance_type", form="243231271343446")])
    out = runner.invoke(args=["replay", kept.rejected_id.lower()])
    assert out.exit_code == 0, out.output
    lead = demo_store.get_lead(out.output.split()[0])
    assert (lead.first_name, lead.last_name, lead.insurance_type) == ("Erin", "O'Neill", "Renters")


def test_a_database_made_before_the_new_columns_gets_them_on_init(tmp_path):
    import sqlite3
    from sheets_schema.sql_store import SqlStore
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE lines (row_id INTEGER PRIMARY KEY, insurance_type TEXT, line TEXT, "
                   "related_lines TEXT)")
        db.execute("INSERT INTO lines (insurance_type, line) VALUES ('Home', 'Personal')")
    store = SqlStore(f"sqlite:///{path}")
    store.init()
    assert store.read_rows("Lines")[0]["aliases"] is None or store.read_rows("Lines")[0]["aliases"] == ""
    assert store.config().line_of("Homeowners").insurance_type == "Home"
    store.close()


def test_a_person_at_our_form_page_sees_the_errors_and_nothing_is_kept(client, demo_store):
    r = client.post("/leads", data={"first_name": "Ann", "form_id": "leadrouter"}, headers={"Accept": "text/html"})
    assert r.status_code == 422 and b"required" in r.data
    assert demo_store.rejected() == []
