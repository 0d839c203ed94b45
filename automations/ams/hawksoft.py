"""HawkSoft: no public API, so leads go to HawkSoft as CSV files for its client import.

Each new lead is a row of `hawksoft-clients-YYYY-MM-DD.csv` in Settings -> HawkSoft Folder (one
file a day, for the daily import); status changes and reassignments go to
`hawksoft-notes-YYYY-MM-DD.csv` for the CSR to log. HawkSoft does not publish its import layout:
the columns below are named plainly so HawkSoft's import screen can map them (docs/ams.md).
`export_csv` builds the same layout from the store for `leadrouter ams export --format hawksoft`.
Text that a spreadsheet would evaluate (= + - @) is neutralized.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Iterable

from sheets_schema.cells import neutralize
from sheets_schema.models import Lead

from .port import AmsClient, AmsError, AmsNote, AmsRecord
from .record import record_of
from .settings import AmsSettings

COLUMNS = ("Lead ID", "First Name", "Last Name", "Cell Phone", "Email", "Zip", "State", "Source",
           "Type", "Line", "Producer", "Status", "Date Received", "Notes")
NOTE_COLUMNS = ("Lead ID", "AMS ID", "Date", "Event", "Note")


def national(phone: str) -> str:
    """+12015550142 -> (201) 555-0142: how an import file writes a US number (a leading + would read
    as a formula)."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if len(digits) == 10 else digits


def row_of(record: AmsRecord) -> list[str]:
    return [neutralize(v) for v in (record.lead_id, record.first_name, record.last_name, national(record.phone),
                                    record.email,
                                    record.zip, record.state, record.source, record.insurance_type, record.line,
                                    record.assigned_to, record.status, record.received_at[:10], record.notes)]


def export_csv(leads: Iterable[Lead]) -> str:
    """The client-import CSV of these leads (header first)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for lead in leads:
        writer.writerow(row_of(record_of(lead)))
    return out.getvalue()


class HawkSoftCsv:
    name = "HawkSoft (CSV)"

    def __init__(self, settings: AmsSettings) -> None:
        self.folder = Path(settings.hawksoft_folder)

    def create_client(self, record: AmsRecord) -> str:
        path = self.folder / f"hawksoft-clients-{record.received_at[:10]}.csv"  # the day the lead came in
        self._append(path, COLUMNS, row_of(record))
        return f"{path.name}#{record.lead_id}"

    def add_note(self, ams_id: str, record: AmsRecord, note: AmsNote) -> None:
        path = self.folder / f"hawksoft-notes-{note.at[:10]}.csv"
        self._append(path, NOTE_COLUMNS, [neutralize(v) for v in (record.lead_id, ams_id, note.at[:16], note.event,
                                                                   note.text)])

    def find_client(self, *, reference: str = "", **_: str) -> AmsClient | None:
        """A row written for lead `reference` by an earlier try (the files are the record)."""
        if not reference or not self.folder.is_dir():
            return None
        for path in sorted(self.folder.glob("hawksoft-clients-*.csv")):
            with path.open(newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    if row.get("Lead ID") == reference:
                        return AmsClient(ams_id=f"{path.name}#{reference}")
        return None

    def verify(self) -> str:
        self._writable()
        return f"HawkSoft CSV files in {self.folder.resolve()}"

    def _writable(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AmsError(f"HawkSoft Folder {str(self.folder)!r} cannot be created: {exc.strerror}",
                           credentials=True) from None
        if not os.access(self.folder, os.W_OK):
            raise AmsError(f"HawkSoft Folder {str(self.folder)!r} is not writable", credentials=True)

    def _append(self, path: Path, header: tuple[str, ...], row: list[str]) -> None:
        self._writable()
        new = not path.exists()
        with path.open("a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(header)
            writer.writerow(row)
            f.flush()
            os.fsync(f.fileno())
