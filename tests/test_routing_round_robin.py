"""Round-robin, hand-checked: tab order, a persistent pointer, and skips that say why."""
from __future__ import annotations

import pytest

from automations.routing import decide
from automations.routing.round_robin import POINTER
from tests.routing_fixtures import NOW, agency, lead, load


def run(config, n, loads=None, pointer=""):
    state, owners, reasons = ({POINTER: pointer} if pointer else {}), [], []
    for _ in range(n):
        d = decide(lead("10050"), config, loads or {}, state, NOW)
        state = {**state, **d.state}
        owners.append(d.owner)
        reasons.append(d.reason)
    return owners, reasons


@pytest.mark.parametrize("producers, loads, pointer, expected", [
    ({}, {}, "", ["Sarah M.", "James K.", "Rachel T.", "David L.", "Sarah M."]),
    ({}, {}, "Rachel T.", ["David L.", "Sarah M.", "James K."]),
    ({"James K.": {"active": "N"}}, {}, "", ["Sarah M.", "Rachel T.", "David L.", "Sarah M."]),
    ({"Rachel T.": {"out_until": "2026-11-30"}}, {}, "James K.", ["David L.", "Sarah M.", "James K.", "David L."]),
    ({"Sarah M.": {"max_active_leads": "2"}}, {"Sarah M.": load(2)}, "", ["James K.", "Rachel T.", "David L."]),
    ({"David L.": {"licensed_states": "NJ"}}, {}, "Rachel T.", ["Sarah M.", "James K."]),
    ({}, {}, "Somebody Gone", ["Sarah M.", "James K."]),  # a pointer naming nobody starts at the top
])
def test_the_rotation_follows_the_tab_and_skips_who_cannot_take_a_lead(producers, loads, pointer, expected):
    owners, _ = run(agency(producers=producers), len(expected), loads, pointer)
    assert owners == expected


def test_the_reason_names_who_was_skipped_and_why():
    _, reasons = run(agency(producers={"James K.": {"active": "N"}}), 1, pointer="Sarah M.")
    assert reasons == ["round_robin: Rachel T. is next in rotation after Sarah M.; skipped James K. (inactive)"]
