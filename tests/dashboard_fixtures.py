"""A fixture day for the dashboard and report tests, built with the store API.

Times are relative to `now`, so the same data serves a FrozenClock test and a spreadsheet
that evaluates TODAY()/NOW() at the real time (see `noon_zone`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sheets_schema.models import Activity, Lead


def noon_zone(moment: datetime) -> str:
    """An Etc/GMT zone where `moment` falls around midday, so 'now - 3 hours' is still today."""
    offset = 12 - moment.astimezone(timezone.utc).hour  # hours east of UTC
    offset = max(-12, min(14, offset))
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def set_time_zone(store, zone: str) -> None:
    rows = [r for r in store.read_rows("Settings") if r["setting"] != "Time Zone"]
    store.replace_rows("Settings", rows + [{"setting": "Time Zone", "value": zone}])


def lead(lead_id: str, received: datetime, owner: str, source: str = "Website", **extra) -> Lead:
    data = dict(lead_id=lead_id, received_at=received, first_name="Test", last_name=lead_id, email=f"{lead_id}@x.example",
                phone="+12015550199", zip="10050", insurance_type="Auto", line="Personal", source=source,
                assigned_to=owner, assigned_at=received, routing_reason="fixture", status="New")
    data.update(extra)
    return Lead(**data)


def contacted(received: datetime, minutes: float, **extra) -> dict:
    return dict(first_contact_at=received + timedelta(minutes=minutes), response_minutes=minutes,
                status=extra.pop("status", "Contacted"), **extra)


def add_fixture_day(store, now: datetime) -> None:
    """8 leads today (4 contacted: 3, 4, 22, 2 min), 3 untouched 15+ min, and some history."""
    m = lambda minutes: now - timedelta(minutes=minutes)  # noqa: E731
    d = lambda days: now - timedelta(days=days)  # noqa: E731
    leads = [
        lead("L-2001", m(180), "Sarah M.", **contacted(m(180), 3)),
        lead("L-2002", m(120), "Sarah M.", "Google Ads", **contacted(m(120), 4, status="Quoted",
                                                                     quoted_at=m(60), premium=900.0)),
        lead("L-2003", m(90), "James K.", **contacted(m(90), 22)),
        lead("L-2004", m(60), "James K.", "Facebook Ads", next_follow_up=d(1)),
        lead("L-2005", m(40), "David L.", "Referral", next_follow_up=now + timedelta(minutes=60)),
        lead("L-2006", m(30), "David L.", "Billboard"),
        lead("L-2007", m(3), "Rachel T."),
        lead("L-2008", m(150), "Rachel T.", **contacted(m(150), 2, status="Bound", quoted_at=m(100),
                                                        bound_at=m(10), premium=1500.0)),
        lead("L-1990", d(20), "Sarah M.", **contacted(d(20), 8, status="Bound", bound_at=d(1), premium=1200.0)),
        lead("L-1991", d(40), "Rachel T.", "Carrier", **contacted(d(40), 12, status="Bound", bound_at=d(35),
                                                                  premium=2000.0)),
        lead("L-1992", d(50), "Rachel T.", "Carrier", status="Lost", next_follow_up=d(1)),
        lead("L-1993", d(200), "James K.", **contacted(d(200), 1, status="Bound", bound_at=d(190), premium=700.0)),
        lead("L-2009", m(20), "Sarah M.", notes="=HYPERLINK(\"http://evil.example\")"),
    ]
    for item in leads:
        store.add_lead(item)
    store.add_activity([
        Activity(time=m(70), lead_id="L-2003", event="reassigned", detail="to James K. after 30 min"),
        Activity(time=m(5), lead_id="L-2004", event="manager alert", detail="untouched 60 min"),
        Activity(time=d(3), lead_id="L-1992", event="reassigned", detail="old"),
    ])


def recalculate(xlsx: Path | list[Path], zone: str, workdir: Path) -> Path | list[Path]:
    """Open and save workbooks with LibreOffice headless (one run), which recalculates every formula."""
    files = xlsx if isinstance(xlsx, list) else [xlsx]
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    out = workdir / "recalculated"
    out.mkdir(exist_ok=True)
    env = dict(os.environ, TZ=zone)
    profile = Path(tempfile.gettempdir()) / f"leadrouter-lo-profile-{os.getuid()}"  # reused: startup is faster
    subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                    "--convert-to", "xlsx", "--outdir", str(out), *map(str, files)],
                   check=True, env=env, capture_output=True, timeout=120)
    results = [out / f.name for f in files]
    return results if isinstance(xlsx, list) else results[0]
