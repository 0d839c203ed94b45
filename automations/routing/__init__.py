"""Where a lead gets its owner: `decide()`.

Order: an existing client goes to their CSR (when the CSR is away or at cap, the model's
reason starts by saying so); otherwise the model named in Settings (round_robin,
territory, weighted) picks among available producers; when nobody is available, the
fallback picks the least-loaded producer regardless of cap, else the manager, else a last
resort: a lead is never left without an owner while someone listed can answer for it.
Every path returns a Decision whose reason a person can read.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Callable

from sheets_schema.models import Lead, Producer

from ..config import AgencyConfig
from ..ports import ProducerLoad
from . import round_robin, territory, weighted
from .availability import NO_LOAD, screen, unavailable_reason
from .clients import find_client
from .decision import Decision
from .reassignment import reassignment
from .weighted import best_with_line, capacity_score

__all__ = ["MODELS", "Decision", "best_with_line", "capacity_score", "decide", "reassignment", "register"]

Model = Callable[..., "Decision | None"]
MODELS: dict[str, Model] = {"round_robin": round_robin.route, "territory": territory.route,
                            "weighted": weighted.route}


HISTORY_MODELS = {"weighted"}  # models that read close rates and response times


def register(name: str, model: Model) -> None:
    MODELS[name] = model


def needs_history(config: AgencyConfig) -> bool:
    """Whether the current model needs the 90-day record (a heavier query) or only open-lead counts."""
    return config.settings.routing_model in HISTORY_MODELS


def decide(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], state: dict[str, str],
           now: datetime) -> Decision:
    today = now.astimezone(config.settings.tz).date()
    client, note = existing_client(lead, config, loads, today)
    if client:
        return client
    name = config.settings.routing_model
    model = MODELS.get(name)
    if model is None:
        name, model = "round_robin", MODELS["round_robin"]
    decision = model(lead, config, loads, state, today) or fallback(lead, config, loads, today, name)
    return replace(decision, reason=note + decision.reason) if note else decision


def existing_client(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad],
                    today) -> tuple[Decision | None, str]:
    """Clients tab match by phone or email -> their CSR, when that CSR is available.

    Otherwise (None, why the CSR was passed over): the model's reason starts with it, so
    nobody wonders why a known client went to someone new."""
    client = find_client(lead, config.clients)
    if client is None:
        return None, ""
    who = f"existing client {client.name or 'match'}"
    csr = config.producer(client.csr)
    if csr is None:
        named = client.csr.strip()
        return None, (f"{who}: CSR {named!r} matches no producer; " if named else f"{who}: no CSR on the Clients tab; ")
    why = unavailable_reason(csr, lead, loads.get(csr.name, NO_LOAD), today,
                             roles=("CSR", "Producer", "Manager"))
    if why:
        return None, f"{who}: CSR {csr.name} {why}; "
    return Decision(csr.name, f"{who}: their CSR {csr.name}", "client"), ""


def fallback(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], today, model: str) -> Decision:
    """Nobody available: least-loaded producer ignoring caps, else the manager. Never ownerless.

    With no active manager either, a last resort still owns the lead (see _last_resort) and
    the reason says to fix the Producers tab: an owner who is away beats a lead nobody is
    responsible for. Inactive producers never get one."""
    capped = screen(config.producers, lead, loads, today, cap=False)
    if capped.available:
        chosen = min(capped.available, key=lambda p: (loads.get(p.name, NO_LOAD).active,
                                                     _stamp(loads.get(p.name, NO_LOAD))))
        active = loads.get(chosen.name, NO_LOAD).active
        table = partial(_fallback_table, config, lead, loads, today, chosen.name,
                        f"winner: fewest open leads ({active}), cap ignored")
        return Decision(chosen.name, f"{model}: every available producer is at cap; {chosen.name} has the "
                        f"fewest open leads ({active}), cap ignored", model, table, fallback=True)
    why = "; ".join(f"{n} {r}" for n, r in capped.excluded.items() if config.producer(n).role == "Producer")
    for manager in config.managers:
        if manager.is_active:
            table = partial(_fallback_table, config, lead, loads, today, manager.name,
                            "winner: manager, no producer available")
            return Decision(manager.name, f"{model}: no producer available ({why or 'none configured'}); "
                            f"assigned to manager {manager.name}", model, table, fallback=True)
    last = _last_resort(config, lead, loads, today)
    if last is None:
        return Decision("", f"{model}: nobody can take this lead ({why or 'no producers'}) and nobody listed can "
                        "answer for it (no Manager row, no CSR in, no active producer); fix the Producers tab",
                        model, fallback=True)
    role = {"Producer": "producer", "Manager": "manager"}.get(last.role, last.role)
    state = unavailable_reason(last, lead, loads.get(last.name, NO_LOAD), today, cap=False, roles=(last.role,))
    table = partial(_fallback_table, config, lead, loads, today, last.name,
                    "winner: last resort" + (f", {state}" if state else ""))
    return Decision(last.name, f"{model}: nobody can take this lead ({why or 'no producers'}) and no manager is "
                    f"active; assigned to {role} {last.name}{f' ({state})' if state else ''} so that it has an "
                    "owner: fix the Producers tab", model, table, fallback=True)


def _last_resort(config: AgencyConfig, lead: Lead, loads: dict[str, ProducerLoad], today) -> Producer | None:
    """Who owns a lead nobody can take: the first Manager row (active or not: the manager answers
    for the team), else a CSR who is in, else the least-loaded active producer who is out."""
    if config.managers:
        return config.managers[0]
    csrs = screen(config.producers, lead, loads, today, cap=False, roles=("CSR",)).available
    if csrs:
        return csrs[0]
    away = [p for p in config.producers if p.role == "Producer" and p.is_active]
    return min(away, key=lambda p: loads.get(p.name, NO_LOAD).active, default=None)


def _fallback_table(config: AgencyConfig, lead: Lead, loads: dict[str, ProducerLoad], today, winner: str,
                    how: str) -> tuple[dict, ...]:
    """Every producer (and a winner who is not one): the winner, and why each other one lost."""
    result = screen(config.producers, lead, loads, today)
    ignoring_cap = screen(config.producers, lead, loads, today, cap=False)
    won = loads.get(winner, NO_LOAD).active
    rows = []
    for p in config.producers:
        if p.role != "Producer" and p.name != winner:
            continue
        open_now = loads.get(p.name, NO_LOAD).active
        if p.name == winner:
            verdict = how
        elif not ignoring_cap.why_not(p.name):
            verdict = (f"{result.why_not(p.name) or 'available'}; cap ignored, but "
                       + (f"more open leads than {winner} ({open_now} > {won})" if open_now > won
                          else f"as many open leads as {winner}, assigned more recently"))
        else:
            verdict = f"unavailable: {ignoring_cap.why_not(p.name)}"
        rows.append({"producer": p.name, "open": open_now, "verdict": verdict})
    return tuple(rows)


def _stamp(load: ProducerLoad) -> float:
    return load.last_assigned_at.timestamp() if load.last_assigned_at else 0.0
