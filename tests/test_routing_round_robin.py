"""Round-robin, hand-checked: tab order, a persistent pointer, and skips that say why."""
from __future__ import annotations

import pytest

from automations.config import AgencyConfig
from automations.routing import decide
from automations.routing.round_robin import POINTER
from sheets_schema.demo import demo_rows
from tests.routing_fixtures import NOW, agency, lead, load


def run(config, n, loads=None, pointer=""):
    state, owners, reasons = ({POINTER: pointer} if pointer else {}), [], []
    for _ in range(n):
        d = decide(lead("10050"), config, loads or {}, state, NOW)
        state = {**state, **d.state}
        owners.append(d.owner)
        reasons.append(d.reason)
    return owners, reasons


def pure(**kwargs) -> AgencyConfig:
    """The guide's pure rotation (Round Robin Lines = any); the default rotates among the lead's line."""
    return agency(settings={"Round Robin Lines": "any"}, **kwargs)


@pytest.mark.parametrize("producers, loads, pointer, expected", [
    ({}, {}, "", ["Sarah M.", "James K.", "Rachel T.", "David L.", "Sarah M."]),
    ({}, {}, "Rachel T.", ["David L.", "Sarah M.", "James K."]),
    ({"James K.": {"active": "N"}}, {}, "", ["Sarah M.", "Rachel T.", "David L.", "Sarah M."]),
    ({"Rachel T.": {"out_until": "2026-11-30"}}, {}, "James K.", ["David L.", "Sarah M.", "James K.", "David L."]),
    ({"Sarah M.": {"max_active_leads": "2"}}, {"Sarah M.": load(2)}, "", ["James K.", "Rachel T.", "David L."]),
    ({"David L.": {"licensed_states": "NJ"}}, {}, "Rachel T.", ["Sarah M.", "James K."]),
    ({}, {}, "Somebody Gone", ["Sarah M.", "James K."]),  # an old bare-name pointer naming nobody: the top
])
def test_the_rotation_follows_the_tab_and_skips_who_cannot_take_a_lead(producers, loads, pointer, expected):
    owners, _ = run(pure(producers=producers), len(expected), loads, pointer)
    assert owners == expected


def test_the_reason_names_who_was_skipped_and_why():
    _, reasons = run(pure(producers={"James K.": {"active": "N"}}), 1, pointer="Sarah M.")
    assert reasons == ["round_robin: Rachel T. is next in rotation among everyone available (Round Robin Lines = "
                       "any) after Sarah M.; skipped James K. (inactive)"]


def test_the_pointer_remembers_the_place_in_the_tab_as_well_as_the_name():
    d = decide(lead("10050"), pure(), {}, {POINTER: "Sarah M. (#1 of 6)"}, NOW)
    assert d.owner == "James K." and d.state == {POINTER: "James K. (#2 of 6)"}


@pytest.mark.parametrize("rows, pointer, expected", [
    # James K. (#2) was deleted: Rachel moved up into his place and is next, not Sarah at the top
    (["Sarah M.", "Rachel T.", "David L."], "James K. (#2 of 4)", ["Rachel T.", "David L.", "Sarah M."]),
    # James K. was renamed Jim Kay: his place had its turn; the rotation goes on below him
    (["Sarah M.", "Jim Kay", "Rachel T.", "David L."], "James K. (#2 of 4)", ["Rachel T.", "David L.", "Sarah M."]),
    # the last row was deleted: the rotation wraps to the top
    (["Sarah M.", "James K.", "Rachel T."], "David L. (#4 of 4)", ["Sarah M.", "James K."]),
])
def test_a_deleted_or_renamed_producer_does_not_restart_the_rotation(rows, pointer, expected):
    tab = {r["name"]: r for r in demo_rows("round_robin")["Producers"]}
    renamed = {"Jim Kay": dict(tab["James K."], name="Jim Kay")}
    config = AgencyConfig.from_rows({"Producers": [renamed.get(n) or tab[n] for n in rows],
                                     "Settings": [{"setting": "Round Robin Lines", "value": "any"}]})
    owners, reasons = run(config, len(expected), pointer=pointer)
    assert owners == expected
    name, place = pointer.removesuffix(" of 4)").split(" (")
    assert reasons[0] == (f"round_robin: {expected[0]} is next in rotation among everyone available (Round Robin "
                          f"Lines = any) from {place}, where {name} stood "
                          "(no longer on the Producers tab)")


def test_a_producer_back_from_time_off_rejoins_where_the_rotation_stands_without_a_catch_up_burst():
    away = pure(producers={"James K.": {"out_until": "2026-11-23"}})  # out through yesterday: back today
    state: dict[str, str] = {}
    owners = []
    for config in [pure(producers={"James K.": {"out_until": "2026-11-30"}})] * 5 + [away] * 8:
        d = decide(lead("10050"), config, {}, state, NOW)
        state = {**state, **d.state}
        owners.append(d.owner)
    # five leads while James is out: Sarah, Rachel, David, Sarah, Rachel; then he is back
    assert owners[:5] == ["Sarah M.", "Rachel T.", "David L.", "Sarah M.", "Rachel T."]
    # the rotation stands after Rachel: David, then Sarah, then James at his place; one lead per round
    assert owners[5:] == ["David L.", "Sarah M.", "James K.", "Rachel T.", "David L.", "Sarah M.", "James K.",
                          "Rachel T."]


def by_line(**kwargs) -> AgencyConfig:
    return agency(settings={"Round Robin Lines": "line"}, **kwargs)


def test_the_default_is_by_line():
    assert demo_config_default().settings.value("Round Robin Lines") == "line"


def demo_config_default() -> AgencyConfig:
    return AgencyConfig.from_rows(demo_rows())


def test_by_default_the_rotation_is_among_producers_who_write_the_leads_line_and_the_reason_says_so():
    owners, reasons = run(demo_config_default(), 4)  # Auto is Personal: Rachel T. writes only Commercial
    assert owners == ["Sarah M.", "James K.", "David L.", "Sarah M."]
    assert reasons[2] == ("round_robin: David L. is next in rotation among producers who write Personal after "
                          "James K.; skipped Rachel T. (does not write Personal)")
    commercial = [decide(lead("10050", "BOP"), by_line(), {}, {POINTER: p}, NOW).owner
                  for p in ("Sarah M.", "Rachel T.")]
    assert commercial == ["Rachel T.", "David L."]  # James K. writes only Personal: never a BOP lead


def test_when_nobody_available_writes_the_line_everyone_available_rotates_and_the_reason_says_why():
    config = by_line(producers={"Rachel T.": {"active": "N"}, "David L.": {"active": "N"}})
    d = decide(lead("10050", "BOP"), config, {}, {}, NOW)
    assert d.owner == "Sarah M."  # Small Commercial covers Commercial
    d = decide(lead("10050", "BOP"), by_line(producers={"Rachel T.": {"active": "N"}, "David L.": {"active": "N"},
                                                        "Sarah M.": {"lines": "Personal"}}), {}, {}, NOW)
    assert d.owner == "Sarah M." and "among everyone available (no available producer writes Commercial)" in d.reason


def test_round_robin_lines_any_restores_the_guides_pure_rotation():
    owners, _ = run(pure(), 4)
    assert owners == ["Sarah M.", "James K.", "Rachel T.", "David L."]
