"""The lead record and notes an AMS receives, built from a Lead (pure functions)."""
from __future__ import annotations

from typing import Any

from sheets_schema.models import Lead

from .port import AmsRecord


def record_of(lead: Lead) -> AmsRecord:
    """The guide's minimum lead record: name, phone, email, source, type/line, producer, status,
    date received, notes."""
    return AmsRecord(
        lead_id=lead.lead_id, first_name=lead.first_name, last_name=lead.last_name, phone=lead.phone,
        email=lead.email, source=lead.source, insurance_type=lead.insurance_type, line=lead.line,
        assigned_to=lead.assigned_to, status=lead.status, received_at=lead.received_at.isoformat(),
        notes=lead.notes, zip=lead.zip, state=lead.state,
    )


def record_json(record: AmsRecord) -> dict[str, Any]:
    """The snake_case lead record of the outbound webhook (DESIGN: `"lead": {...}`)."""
    out = {k: getattr(record, k) for k in AmsRecord.__dataclass_fields__ if k != "extra"}
    out.update(record.extra)
    return out
