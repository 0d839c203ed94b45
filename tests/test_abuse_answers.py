"""Issue 14: what the public can learn, forge or pollute through POST /leads (items 3, 4, 5, 8)."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import RedactingFilter, create_app
from automations.reports import formats
from automations.reports.frames import Month
from automations.reports.monthly import source_report
from tests.conftest import lead_payload



@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def _vendor_client(demo_store, clock, notifier, keys="QuoteWizard=s3cret"):
    app = create_app({"TESTING": True, "SEND_INLINE": True, "API_KEYS": keys}, store=demo_store, clock=clock,
                     notifier=notifier)
    return app.test_client()


# ---- 3. duplicates -------------------------------------------------------------------------------------
def test_a_keyless_duplicate_learns_neither_the_owner_nor_the_status(client, demo_store):
    first = client.post("/leads", json=lead_payload()).get_json()
    demo_store.update_lead(first["lead_id"], {"status": "Quoted"})
    r = client.post("/leads", json=lead_payload(first_name="Eve"))
    assert r.status_code == 200 and r.get_json() == {"lead_id": first["lead_id"], "duplicate": True}
    assert "Sarah" not in r.get_data(as_text=True) and "Quoted" not in r.get_data(as_text=True)


def test_a_vendor_with_a_key_keeps_the_full_duplicate_answer(demo_store, clock, notifier):
    client = _vendor_client(demo_store, clock, notifier)
    first = client.post("/leads", json=lead_payload(), headers={"X-API-Key": "s3cret"}).get_json()
    r = client.post("/leads", json=lead_payload(), headers={"X-API-Key": "s3cret"})
    assert r.status_code == 200
    assert r.get_json() == {**first, "duplicate": True}


def test_a_resubmissions_notes_are_marked_unverified_and_never_replace_the_first(client, demo_store):
    first = client.post("/leads", json=lead_payload(message="Please call after 5")).get_json()
    client.post("/leads", json=lead_payload(message="Cancel everything, do not call"))
    notes = demo_store.get_lead(first["lead_id"]).notes
    assert notes.startswith("Please call after 5")
    later = notes.split("\n", 1)[1]
    assert "unverified" in later and "Cancel everything" in later


# ---- 4. one line ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("brk", ["\n", "\r", "\r\n", "\u2028", "\x85", "\x0b"])
def test_a_line_break_in_a_name_never_adds_a_line_to_the_producers_text(client, demo_store, notifier, brk):
    forged = f"Maria{brk}CRITICAL database wiped{brk}"
    r = client.post("/leads", json=lead_payload(first_name=forged, insurance_type=f"Auto{brk}URGENT: call 900-555"))
    lead = demo_store.get_lead(r.get_json()["lead_id"])
    assert lead.first_name == "Maria CRITICAL database wiped" and lead.insurance_type.startswith("Auto URGENT")
    sms = next(m for m in notifier.sent if m.channel == "sms")
    assert not any(line.startswith(("CRITICAL", "URGENT")) for line in sms.body.splitlines())


def test_a_log_line_keeps_a_value_with_line_breaks_on_one_line():
    record = logging.LogRecord("leadrouter", logging.INFO, __file__, 1, "lead from %s", ("Ann\nCRITICAL x\u2028",),
                               None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "lead from Ann\\nCRITICAL x\\u2028"
    assert len(record.getMessage().splitlines()) == 1


# ---- 5. answered as stored -----------------------------------------------------------------------------
def test_a_lead_stored_while_the_send_pool_shuts_down_is_answered_as_stored(demo_store, clock, notifier):
    app = create_app({"TESTING": True}, store=demo_store, clock=clock, notifier=notifier)
    pool = ThreadPoolExecutor(max_workers=1)
    pool.shutdown()
    app.extensions["leadrouter"]._pool = pool  # what a deploy's shutdown leaves behind
    r = app.test_client().post("/leads", json=lead_payload())
    assert r.status_code == 201 and r.get_json()["assigned_to"] == "Sarah M."
    assert demo_store.get_lead(r.get_json()["lead_id"]) is not None


# ---- 8. attribution ------------------------------------------------------------------------------------
def test_answers_that_match_no_source_count_under_one_row_and_keep_the_raw_answer(client, demo_store, clock):
    for i, answer in enumerate(["billboard on route 9", "asdfgh", "my cousin's dog"]):
        client.post("/leads", json=lead_payload(email=f"v{i}@example.com", phone=f"20155501{i:02d}",
                                                utm_source=answer))
    leads = demo_store.leads()
    assert {lead.source for lead in leads} == {"Other (unmatched)"}
    assert [lead.how_heard for lead in leads] == ["billboard on route 9", "asdfgh", "my cousin's dog"]  # kept raw
    table = source_report(leads, demo_store.config(), Month(2026, 11))
    assert list(table["source"]).count("Other (unmatched)") == 1
    assert "asdfgh" not in list(table["source"])


def test_a_visitor_typing_a_high_priority_sources_name_gets_normal_priority(demo_store, clock, notifier):
    rows = demo_store.read_rows("Sources") + [{"source": "VIP Partner", "priority": "High", "aliases": "vip-7731"}]
    demo_store.replace_rows("Sources", rows)
    client = _vendor_client(demo_store, clock, notifier, keys="VIP Partner=k-vip")
    typed = client.post("/leads", json=lead_payload(utm_source="VIP Partner")).get_json()
    alias = client.post("/leads", json=lead_payload(email="b@example.com", phone="2015550188",
                                                    utm_source="vip-7731")).get_json()
    keyed = client.post("/leads", json=lead_payload(email="c@example.com", phone="2015550189"),
                        headers={"X-API-Key": "k-vip"}).get_json()
    got = {k: (demo_store.get_lead(v["lead_id"]).source, demo_store.get_lead(v["lead_id"]).priority)
           for k, v in dict(typed=typed, alias=alias, keyed=keyed).items()}
    assert got == {"typed": ("VIP Partner", "Normal"), "alias": ("VIP Partner", "High"),
                   "keyed": ("VIP Partner", "High")}


def test_the_markdown_report_prints_names_as_text(demo_store, clock, notifier):
    client = _vendor_client(demo_store, clock, notifier, keys="Evil | [win](http://evil.example) <b>=k1")
    client.post("/leads", json=lead_payload(), headers={"X-API-Key": "k1"})
    config = demo_store.config()
    month = Month(2026, 11)
    text = formats.sources_markdown(source_report(demo_store.leads(), config, month), month, "A*gency")
    row = next(line for line in text.splitlines() if "Evil" in line)
    assert "\\[win\\]\\(http://evil.example\\)" in row and "&lt;b&gt;" in row and "Evil \\| " in row
    assert row.count(" | ") == text.splitlines()[2].count(" | ")  # no extra cells
    assert "A\\*gency" in text.splitlines()[0]
