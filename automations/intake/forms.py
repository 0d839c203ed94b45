"""Which form posted, the Form Fields rows that apply to it, and what it sent last.

Two Gravity forms both send "1.3", meaning different things: a Form Fields row may name its
form (id or name, as the payload gives it); a blank Form means every form, and a row naming
this form wins over a blank one for the same key. The keys of each form's last submission and
where each went are kept in the store's state, for `leadrouter forms`.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Iterable, Mapping

from pydantic import BaseModel

from sheets_schema.models import FormField

from automations.ports import Store
from .payload import field_of, norm

FORMS_INDEX = "forms_seen"
_FORM_STATE = "form_last:"
MAX_FORMS = 200
MAX_KEYS = 200


def form_of(pairs: Iterable[tuple[str, str]], query: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(form id, form name) from the payload's own fields (form_id, form[id], formID,
    form_response.form_id ... as flattened) or the URL's ?form=; blanks when none."""
    form_id = form_name = ""
    for name, value in pairs:
        field = field_of(name)
        if field == "form_id" and not form_id and str(value).strip():
            form_id = str(value).strip()
        elif field == "form_name" and not form_name and str(value).strip():
            form_name = str(value).strip()
    if not form_id and query:
        form_id = str(query.get("form") or query.get("form_id") or "").strip()
    return form_id, form_name


def form_label(form_id: str, form_name: str) -> str:
    """How a form is named to people: 'Home quote (3)', '3', or '(no form id)'."""
    if form_id and form_name and form_name != form_id:
        return f"{form_name} ({form_id})"
    return form_id or form_name or "(no form id)"


def fields_for_form(rows: Iterable[FormField], form_id: str, form_name: str) -> dict[str, str]:
    """{key: field} of the Form Fields rows for this form: rows naming it override rows for every form."""
    names = {norm(x) for x in (form_id, form_name) if x}
    general: dict[str, str] = {}
    specific: dict[str, str] = {}
    for row in rows:
        if not row.form.strip():
            general[row.key] = row.field
        elif norm(row.form) in names:
            specific[row.key] = row.field
    return {**general, **specific}


class FormSeen(BaseModel):
    """A form's last submission: every key it sent and where each went."""
    form: str
    last_at: datetime
    outcome: str  # the lead id, or "rejected R-3"
    keys: list[tuple[str, str]]


def remember_submission(store: Store, form: str, when: datetime, outcome: str,
                        trace: list[tuple[str, str]]) -> None:
    """Keep the last submission's key map of this form (state; small, bounded)."""
    seen = FormSeen(form=form, last_at=when, outcome=outcome, keys=trace[:MAX_KEYS])
    store.set_state(_FORM_STATE + form, seen.model_dump_json())
    index = json.loads(store.get_state(FORMS_INDEX) or "[]")
    if form not in index:
        index = (index + [form])[-MAX_FORMS:]
        store.set_state(FORMS_INDEX, json.dumps(index))


def forms_seen(store: Store) -> list[FormSeen]:
    out = []
    for form in json.loads(store.get_state(FORMS_INDEX) or "[]"):
        text = store.get_state(_FORM_STATE + form)
        if text:
            out.append(FormSeen.model_validate_json(text))
    return out
