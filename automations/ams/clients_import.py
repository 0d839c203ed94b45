"""An AMS's client export (CSV) into the Clients tab: matched by normalized email or phone, so
importing the same file twice changes nothing, and a client whose CSR changed is updated in place.

Column names differ per AMS and per saved report; each format lists the headers it is known by
(docs/ams.md), matched case- and space-insensitively, so an owner's own export usually works
with `--format csv` too. A row with neither a valid email nor a valid phone is skipped and
counted, never guessed at.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Iterable

from automations.contact import normalize_phone

FORMATS = ("epic", "ams360", "hawksoft", "csv")
_COMMON = {
    "name": ("name", "client name", "customer name", "insured name", "account name", "full name"),
    "first": ("first name", "firstname", "first"),
    "last": ("last name", "lastname", "last"),
    "firm": ("firm name", "firmname", "company", "business name"),
    "email": ("email", "e-mail", "email address", "primary email", "emailaddress"),
    "phone": ("phone", "phone number", "cell phone", "cellphone", "mobile", "mobile phone", "home phone",
              "homephone", "primary phone", "business phone", "businessphone"),
    "csr": ("csr", "csr name", "account manager", "account rep", "servicer", "service rep"),
}
_PER_FORMAT = {
    "epic": {"name": ("account name", "client name"), "csr": ("csr", "account manager", "servicer")},
    "ams360": {"csr": ("account rep", "accountrepcode", "account rep code", "rep name", "csr")},
    "hawksoft": {"csr": ("csr", "agent", "producer"), "phone": ("cell phone", "home phone", "work phone")},
    "csv": {},
}


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.skipped)} skipped" + (f" ({'; '.join(self.skipped[:5])})" if self.skipped else ""))


def _norm(header: str) -> str:
    return " ".join(header.strip().lower().replace("_", " ").split())


def read_export(text: str, fmt: str) -> list[dict[str, str]]:
    """Rows of an export as {name, email, phone, csr}; phone as E.164 when it is a number."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = {_norm(h): h for h in (reader.fieldnames or []) if h}
    wanted = {k: tuple(_PER_FORMAT[fmt].get(k, ())) + v for k, v in _COMMON.items()}

    def column(kind: str) -> list[str]:
        return [headers[h] for h in wanted[kind] if h in headers]

    cols = {kind: column(kind) for kind in wanted}
    rows = []
    for raw in reader:
        def first(kind: str) -> str:
            return next((raw[c].strip() for c in cols[kind] if (raw.get(c) or "").strip()), "")
        name = first("name") or " ".join(filter(None, (first("first"), first("last")))) or first("firm")
        phone = next((p for p in (normalize_phone(raw[c]) for c in cols["phone"] if (raw.get(c) or "").strip())
                      if p), "")
        rows.append({"name": name, "email": first("email").lower(), "phone": phone, "csr": first("csr")})
    return rows


def merge_clients(existing: Iterable[dict], incoming: Iterable[dict[str, str]]) -> tuple[list[dict], ImportResult]:
    """The Clients tab after the import, and what changed. Existing rows are kept (and their columns
    we do not know); a match by email, else phone, is updated; others are added."""
    rows = [dict(r) for r in existing]
    result = ImportResult()
    by_email: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    for i, row in enumerate(rows):
        email = str(row.get("email") or "").strip().lower()
        phone = normalize_phone(str(row.get("phone") or "")) if str(row.get("phone") or "").strip() else None
        if email:
            by_email.setdefault(email, i)
        if phone:
            by_phone.setdefault(phone, i)
    for n, new in enumerate(incoming, start=2):
        if not new["email"] and not new["phone"]:
            result.skipped.append(f"line {n}: no email or phone")
            continue
        i = by_email.get(new["email"]) if new["email"] else None
        if i is None and new["phone"]:
            i = by_phone.get(new["phone"])
        if i is None:
            rows.append(dict(new))
            i = len(rows) - 1
            result.added += 1
        else:
            old = rows[i]
            changes = {k: v for k, v in new.items() if v and str(old.get(k) or "").strip() != v}
            if k_phone := changes.get("phone"):
                if normalize_phone(str(old.get("phone") or "")) == k_phone:
                    changes.pop("phone")
            if changes:
                old.update(changes)
                result.updated += 1
            else:
                result.unchanged += 1
        if new["email"]:
            by_email.setdefault(new["email"], i)
        if new["phone"]:
            by_phone.setdefault(new["phone"], i)
    return rows, result
