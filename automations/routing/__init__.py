"""Where a lead gets its owner: `decide()`.

Order: an existing client goes to their CSR; otherwise the model named in Settings
(round_robin, territory, weighted) picks among available producers; when nobody is
available, the fallback picks the least-loaded producer regardless of cap, else the
manager. Every path returns a Decision whose reason a person can read.
"""
from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Callable

from sheets_schema.models import Lead

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
    client = existing_client(lead, config, loads, today)
    if client:
        return client
    name = config.settings.routing_model
    model = MODELS.get(name)
    if model is None:
        name, model = "round_robin", MODELS["round_robin"]
    decision = model(lead, config, loads, state, today)
    return decision or fallback(lead, config, loads, today, name)


def existing_client(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], today) -> Decision | None:
    """Clients tab match by phone or email -> their CSR, when that CSR is available."""
    client = find_client(lead, config.clients)
    if client is None:
        return None
    csr = config.producer(client.csr)
    if csr is None:
        return None
    why = unavailable_reason(csr, lead, loads.get(csr.name, NO_LOAD), today,
                             roles=("CSR", "Producer", "Manager"))
    if why:
        return None
    return Decision(csr.name, f"existing client {client.name or 'match'}: their CSR {csr.name}", "client")


def fallback(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], today, model: str) -> Decision:
    """Nobody available: least-loaded producer ignoring caps, else the manager. Never ownerless."""
    capped = screen(config.producers, lead, loads, today, cap=False)
    table = partial(_fallback_table, config, lead, loads, today)
    if capped.available:
        chosen = min(capped.available, key=lambda p: (loads.get(p.name, NO_LOAD).active,
                                                     _stamp(loads.get(p.name, NO_LOAD))))
        active = loads.get(chosen.name, NO_LOAD).active
        return Decision(chosen.name, f"{model}: every available producer is at cap; {chosen.name} has the "
                        f"fewest open leads ({active}), cap ignored", model, table, fallback=True)
    why = "; ".join(f"{n} {r}" for n, r in capped.excluded.items() if config.producer(n).role == "Producer")
    for manager in config.managers:
        if manager.is_active:
            return Decision(manager.name, f"{model}: no producer available ({why or 'none configured'}); "
                            f"assigned to manager {manager.name}", model, table, fallback=True)
    return Decision("", f"{model}: nobody can take this lead ({why or 'no producers'}) and no active manager; "
                    "fix the Producers tab", model, table, fallback=True)


def _fallback_table(config: AgencyConfig, lead: Lead, loads: dict[str, ProducerLoad], today) -> tuple[dict, ...]:
    result = screen(config.producers, lead, loads, today)
    return tuple({"producer": p.name, "open": loads.get(p.name, NO_LOAD).active,
                  "verdict": result.why_not(p.name) or "available"}
                 for p in config.producers if p.role == "Producer")


def _stamp(load: ProducerLoad) -> float:
    return load.last_assigned_at.timestamp() if load.last_assigned_at else 0.0
