"""Store.workload: what routing knows about each producer's load, the same from every backend.

The SQL store answers with aggregate queries (it runs inside the exclusive lock of every
POST /leads); the generic Store.workload reads every lead. Both must give the same loads.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from automations.ports import HISTORY_DAYS, Store
from sheets_schema.models import Lead
from tests.conftest import T0

EDGE = T0 - timedelta(days=HISTORY_DAYS)  # the first moment of the 90-day window


def a_lead(n: int, owner: str, assigned_at, status: str = "New", minutes: float | None = None) -> Lead:
    contact = assigned_at + timedelta(minutes=minutes) if minutes is not None and assigned_at else None
    return Lead(lead_id=f"L-{n}", received_at=assigned_at or T0, assigned_to=owner, assigned_at=assigned_at,
                status=status, first_contact_at=contact, response_minutes=minutes, phone=f"+1201555{n:04d}")


LEADS = [
    ("Sarah M.", T0 - timedelta(hours=1), "New", None),
    ("Sarah M.", T0 - timedelta(days=3), "Contacted", 4.5),
    ("Sarah M.", T0 - timedelta(days=10), "Bound", 12.0),
    ("Sarah M.", T0 - timedelta(days=200), "Bound", 1.0),        # outside the window: not in the record
    ("James K.", EDGE, "Quoted", 30.0),                           # exactly on the edge: inside
    ("James K.", EDGE - timedelta(seconds=1), "Bound", 2.0),      # a second before: outside
    ("James K.", T0 - timedelta(days=1), "Lost", 7.25),
    ("James K.", T0 - timedelta(days=2), "Bound", None),          # bound, never stamped as contacted
    ("Rachel T.", T0 - timedelta(days=400), "Lost", None),        # only old history: last assignment still counts
    ("Former Producer", T0 - timedelta(days=5), "Contacted", 9.0),  # no longer on the tab: still a load
    ("", None, "New", None),                                      # unassigned: nobody's load
]


@pytest.fixture
def loaded(store):
    for n, (owner, at, status, minutes) in enumerate(LEADS):
        store.add_lead(a_lead(n, owner, at, status, minutes))
    return store


def summary(loads):
    return {name: (load.active, load.last_assigned_at, load.assigned_window, load.bound_window,
                   None if load.avg_response is None else round(load.avg_response, 9))
            for name, load in loads.items()}


@pytest.mark.parametrize("history", [True, False])
def test_every_backend_gives_the_loads_the_generic_definition_gives(loaded, history):
    now = T0 + timedelta(microseconds=250)  # a real clock's 'now' is not a whole second
    fast, generic = summary(loaded.workload(now, history)), summary(Store.workload(loaded, now, history))
    if not history:  # without the record only open leads and last assignments are asked for
        fast = {n: v[:2] for n, v in fast.items()}
        generic = {n: v[:2] for n, v in generic.items()}
    assert fast == generic


def test_the_loads_are_the_hand_counted_ones(loaded):
    loads = summary(loaded.workload(T0))
    assert loads == {
        "Sarah M.": (2, T0 - timedelta(hours=1), 3, 1, round((4.5 + 12.0) / 2, 9)),
        "James K.": (1, T0 - timedelta(days=1), 3, 1, round((30.0 + 7.25) / 2, 9)),
        "Rachel T.": (0, T0 - timedelta(days=400), 0, 0, None),
        "Former Producer": (1, T0 - timedelta(days=5), 1, 0, 9.0),
    }
