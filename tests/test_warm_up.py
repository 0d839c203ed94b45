"""Warm-up before the first post (`leadrouter serve` runs it before it listens): it rehearses a form
post's statements so the first lead is not the slow one, and it must leave nothing behind."""
from __future__ import annotations

import gc

from app import warm_up
from sheets_schema.models import Activity
from tests.conftest import lead_payload, load_demo


def test_warm_up_leaves_no_lead_claim_state_or_count_behind(store, app, client, clock):
    load_demo(store)
    try:
        warm_up(app)
        warm_up(app)  # a restart warms up again
    finally:
        gc.unfreeze()
    assert store.leads() == [] and store.activity() == []
    assert store.get_state("rehearsal:state") is None
    assert store.hit("rehearsal", clock.now(), 60, amount=0)[0] == 0
    # the key the rehearsal claimed is still free, and the lead numbering starts where it would have
    assert store.claim(Activity(time=clock.now(), lead_id="L-1", event="x", key="rehearsal:key"))
    answer = client.post("/leads", json=lead_payload())
    assert answer.status_code in (201, 202), answer.get_json()
    assert [lead.lead_id for lead in store.leads()] == [answer.get_json()["lead_id"]] == ["L-1001"]


def test_warm_up_puts_what_was_loaded_at_start_out_of_the_collectors_way(app):
    try:
        warm_up(app)
        assert gc.get_freeze_count() > 0  # full collections no longer walk the libraries and ZIP data
    finally:
        gc.unfreeze()
