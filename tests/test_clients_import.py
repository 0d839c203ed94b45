"""`leadrouter clients import`: an AMS's client export into the Clients tab, idempotent."""
from __future__ import annotations

from tests.ams_fixtures import ams_app, lead_payload, sql_demo  # noqa: F401

EPIC_EXPORT = """Account Name,Email Address,Cell Phone,Account Manager
Maria Lopez,Maria.Lopez@Example.com,(201) 555-0142,Casey R.
Ann Lee,,201.555.0199,Casey R.
No Contact,,,Casey R.
"""
AMS360_EXPORT = """FirstName,LastName,Email,CellPhone,AccountRepCode
Maria,Lopez,maria.lopez@example.com,2015550142,Morgan P.
Bo,Diaz,bo@example.com,,Casey R.
"""


def test_an_epic_export_fills_the_clients_tab_and_a_second_import_changes_nothing(sql_demo, clock, tmp_path):
    export = tmp_path / "epic.csv"
    export.write_text(EPIC_EXPORT)
    runner = ams_app(sql_demo, clock, "none", {}).test_cli_runner()
    first = runner.invoke(args=["clients", "import", str(export), "--format", "epic"])
    assert "2 added, 0 updated, 0 unchanged, 1 skipped" in first.output and "line 4" in first.output
    again = runner.invoke(args=["clients", "import", str(export), "--format", "epic"])
    assert "0 added, 0 updated, 2 unchanged" in again.output
    before = 1  # the demo agency's own client row stays
    rows = sql_demo.read_rows("Clients")[before:]
    assert [(r["name"], r["email"], r["phone"], r["csr"]) for r in rows] == [
        ("Maria Lopez", "maria.lopez@example.com", "+12015550142", "Casey R."),
        ("Ann Lee", "", "+12015550199", "Casey R.")]


def test_an_ams360_export_updates_a_client_matched_by_email_and_adds_the_new_one(sql_demo, clock, tmp_path):
    runner = ams_app(sql_demo, clock, "none", {}).test_cli_runner()
    (tmp_path / "epic.csv").write_text(EPIC_EXPORT)
    (tmp_path / "ams360.csv").write_text(AMS360_EXPORT)
    runner.invoke(args=["clients", "import", str(tmp_path / "epic.csv"), "--format", "epic"])
    result = runner.invoke(args=["clients", "import", str(tmp_path / "ams360.csv"), "--format", "ams360"])
    assert "1 added, 1 updated" in result.output
    csr = {r["email"] or r["phone"]: r["csr"] for r in sql_demo.read_rows("Clients")}
    assert csr["maria.lopez@example.com"] == "Morgan P." and csr["bo@example.com"] == "Casey R."


def test_an_imported_client_goes_to_their_csr(sql_demo, clock, tmp_path):
    (tmp_path / "c.csv").write_text(EPIC_EXPORT)
    app = ams_app(sql_demo, clock, "none", {})
    app.test_cli_runner().invoke(args=["clients", "import", str(tmp_path / "c.csv"), "--format", "csv"])
    answer = app.test_client().post("/leads", data=lead_payload(email="someone.else@example.com",
                                                                phone="201-555-0199"))
    assert answer.get_json()["assigned_to"] == "Casey R."
