"""Properties every routing model keeps, whatever the tabs say (hypothesis).

- when an available producer exists, the lead gets exactly one owner, and that owner is
  available: never inactive, out of office, at cap, unlicensed, a CSR or a manager;
- the fallback never picks an inactive producer, and an out-of-office one only as the very
  last resort (no Manager listed, no CSR in); a lead is never ownerless while a Manager or an
  active producer is listed;
- round-robin keeps every available producer within one lead of the others.
"""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automations.config import AgencyConfig
from automations.routing import decide
from automations.routing.round_robin import by_line
from automations.routing.availability import screen
from automations.routing.weighted import score_candidates
from automations.routing.weights import parse_weights
from tests.routing_fixtures import NOW, TODAY, lead, load

NAMES = [f"P{i}" for i in range(8)]
LINES = ["Personal", "Commercial", "Life"]
TYPES = ["Auto", "Home", "BOP", "Life", "Health", "Pet"]
ZIPS = st.one_of(st.integers(10000, 10500).map(lambda z: f"{z:05d}"), st.just("90210"), st.just("02134"))


@st.composite
def producer_rows(draw, n):
    rows = []
    for name in NAMES[:n]:
        out = draw(st.one_of(st.none(), st.integers(-5, 5).map(lambda d: (TODAY + timedelta(days=d)).isoformat())))
        rows.append(dict(
            name=name, role=draw(st.sampled_from(["Producer"] * 6 + ["CSR", "Manager"])),
            lines=", ".join(draw(st.lists(st.sampled_from(LINES), max_size=2, unique=True))),
            active=draw(st.sampled_from(["Y", "Y", "Y", "N", ""])), out_until=out or "",
            max_active_leads=draw(st.sampled_from(["", "", "0", "2", "5"])),
            licensed_states=draw(st.sampled_from(["", "", "NY", "NJ, CT", "NY, CA"])),
            backup=draw(st.sampled_from(["", *NAMES[:n], "Nobody"]))))
    return rows


@st.composite
def agencies(draw):
    n = draw(st.integers(1, 8))
    producers = draw(producer_rows(n))
    territories = []
    for i in range(draw(st.integers(0, 5))):
        lo = draw(st.integers(10000, 10500))
        hi = draw(st.integers(10000, 10500))
        territories.append(dict(territory=f"T{i}", zip_from=f"{lo:05d}", zip_to=f"{hi:05d}",
                                producer=draw(st.sampled_from(NAMES[:n] + ["Ghost"])),
                                backup=draw(st.sampled_from(["", *NAMES[:n]])),
                                line_focus=draw(st.sampled_from(["", *LINES, "Personal + Commercial"]))))
    weights = [dict(factor=f, weight=str(draw(st.integers(0, 60))), bands=b) for f, b in (
        ("capacity", "5:10, 10:8, 15:6, 20:4, *:2"), ("specialization", ""), ("close_rate", ""),
        ("response_time", draw(st.sampled_from(["5:10, 15:8, 30:6, 60:4, *:2", "", "junk"]))))]
    lines = [dict(insurance_type="Auto", line="Personal", related_lines="Commercial"),
             dict(insurance_type="Home", line="Personal"), dict(insurance_type="BOP", line="Commercial"),
             dict(insurance_type="Life", line="Life", related_lines="Health"),
             dict(insurance_type="Health", line="Health", related_lines="Life")]
    model = draw(st.sampled_from(["round_robin", "territory", "weighted"]))
    fallback = draw(st.sampled_from(["round_robin", "", *NAMES[:n], "Nobody"]))
    config = AgencyConfig.from_rows({
        "Producers": producers, "Territories": territories, "Weights": weights, "Lines": lines,
        "Settings": [dict(setting="Routing Model", value=model), dict(setting="Territory Fallback", value=fallback)]})
    loads = {name: load(draw(st.integers(0, 25)), assigned=(a := draw(st.integers(0, 30))),
                        bound=draw(st.integers(0, a)),
                        minutes=draw(st.lists(st.floats(0, 200), max_size=3)),
                        last_hours_ago=draw(st.one_of(st.none(), st.integers(0, 48))))
             for name in NAMES[:n] if draw(st.booleans())}
    pointer = draw(st.sampled_from(["", *NAMES[:n]]))
    return config, loads, {"round_robin_pointer": pointer} if pointer else {}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agencies(), ZIPS, st.sampled_from(TYPES))
def test_an_available_producer_always_means_exactly_one_available_owner(agency, zip_code, insurance_type):
    config, loads, state = agency
    the_lead = lead(zip_code, insurance_type)
    decision = decide(the_lead, config, loads, state, NOW)
    available = {p.name for p in screen(config.producers, the_lead, loads, TODAY).available}
    owner = config.producer(decision.owner) if decision.owner else None
    if available:
        assert decision.owner in available and not decision.fallback
    if owner is not None and owner.role == "Producer":  # inactive never; out only as the very last resort
        assert owner.is_active and (not owner.is_out(TODAY) or (decision.fallback and not config.managers))
    if any(p.role == "Manager" or (p.role == "Producer" and p.is_active) for p in config.producers):
        assert decision.owner  # never ownerless while someone can answer for the lead
    assert decision.reason.startswith(config.settings.routing_model)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agencies(), ZIPS, st.sampled_from(TYPES))
def test_the_weighted_winner_has_the_highest_exact_score(agency, zip_code, insurance_type):
    config, loads, _ = agency
    the_lead = lead(zip_code, insurance_type)
    available = screen(config.producers, the_lead, loads, TODAY).available
    if not available:
        return
    scores = score_candidates(the_lead, config, available, loads, parse_weights(config.weights))
    assert scores[0].total >= max(s.total for s in scores) - 1e-9
    assert all(1 <= f <= 10 for s in scores for f in s.factors.values() if s.factors)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agencies(), st.integers(1, 60))
def test_round_robin_keeps_every_available_producer_of_the_line_within_one_lead(agency, n):
    config, _, state = agency
    config = AgencyConfig(producers=config.producers, lines=config.lines)  # default Settings: round_robin
    the_lead = lead("10050", "Auto")
    available = screen(config.producers, the_lead, {}, TODAY).available
    counts = {p.name: 0 for p in by_line(the_lead, config, available)[0]}  # those who write Personal, if any
    if not counts:
        return
    for _ in range(n):
        decision = decide(the_lead, config, {}, state, NOW)
        state = {**state, **decision.state}
        counts[decision.owner] += 1
    assert max(counts.values()) - min(counts.values()) <= 1
