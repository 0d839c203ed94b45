"""A database made before the AMS ID column existed keeps working: the column is added on first use."""
from __future__ import annotations

import sqlite3

from sheets_schema.sql_store import SqlStore
from tests.conftest import T0, load_demo


def test_a_database_from_before_the_ams_id_column_takes_new_leads_without_init(tmp_path):
    path = tmp_path / "old.db"
    old = SqlStore(f"sqlite:///{path}")
    load_demo(old)
    old.close()
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE leads DROP COLUMN ams_id")
    from sheets_schema.models import Lead
    store = SqlStore(f"sqlite:///{path}")
    store.add_lead(Lead(lead_id="L-1001", received_at=T0, first_name="Ann"))
    store.update_lead("L-1001", {"ams_id": "CL1"})
    assert store.get_lead("L-1001").ams_id == "CL1"
    store.close()
