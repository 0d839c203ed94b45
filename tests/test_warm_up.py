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


WARM_THEN_POST = """
import json, sys
from datetime import datetime, timezone
from app import create_app, warm_up
from automations.clock import FrozenClock
from sheets_schema.sql_store import SqlStore
from tests.conftest import lead_payload, load_demo
store = SqlStore(sys.argv[1])
load_demo(store)
app = create_app({"TESTING": True}, store=store,
                 clock=FrozenClock(datetime(2026, 11, 24, 15, tzinfo=timezone.utc)))
client = app.test_client()
warm_up(app)
before = set(sys.modules)
answer = client.post("/leads", json=lead_payload())
app.extensions["leadrouter"].drain()  # the texts went out on the send pool: their modules count too
print(json.dumps({"status": answer.status_code, "imported": sorted(set(sys.modules) - before)}))
"""


def test_after_warm_up_the_first_post_loads_no_module_of_its_own(tmp_path):
    """In a fresh interpreter, as `leadrouter serve` starts: nothing is left to import on the first lead."""
    import json
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", WARM_THEN_POST, f"sqlite:///{tmp_path / 'leads.db'}"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 201
    assert result["imported"] == []
