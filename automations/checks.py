"""`leadrouter check`: what in the config tabs would break or surprise routing.

Pure: takes an AgencyConfig, returns problems with the tab they are on. Errors stop
routing from doing what the owner meant; warnings are worth a look.
"""
from __future__ import annotations

from dataclasses import dataclass

from sheets_schema.tabs import ROUTING_MODELS

from .config import AgencyConfig
from .contact import normalize_phone
from .templates import unknown_placeholders

FACTORS = ("capacity", "specialization", "close_rate", "response_time")


@dataclass(frozen=True)
class Problem:
    level: str  # error | warning
    tab: str
    message: str


def check_config(config: AgencyConfig) -> list[Problem]:
    problems: list[Problem] = []
    add = lambda level, tab, msg: problems.append(Problem(level, tab, msg))  # noqa: E731
    names = {p.name.strip().lower() for p in config.producers}

    producers = [p for p in config.producers if p.role == "Producer"]
    if not any(p.is_active for p in producers):
        add("error", "Producers", "no active producer: every lead would go to the manager")
    if not config.managers:
        add("warning", "Producers", "no Manager: escalation alerts have nobody to go to")
    for p in config.producers:
        if p.mobile and not normalize_phone(p.mobile):
            add("error", "Producers", f"{p.name}: Mobile {p.mobile!r} is not a valid phone number")
        if p.role == "Producer" and not p.lines:
            add("warning", "Producers", f"{p.name}: no Lines, so never a specialization match")
        if p.backup and p.backup.strip().lower() not in names:
            add("error", "Producers", f"{p.name}: Backup {p.backup!r} matches no producer")
        if p.push_webhook.strip() and not p.push_webhook.strip().lower().startswith(("https://", "http://")):
            add("warning", "Producers", f"{p.name}: Push Webhook is not an http(s) URL; reminders go by text")
    mobiles: dict[str, str] = {}
    for p in config.producers:
        number = normalize_phone(p.mobile) if p.mobile else None
        if number and number in mobiles:
            add("warning", "Producers", f"{p.name} and {mobiles[number]} share a Mobile: text replies from it "
                                        f"count as {mobiles[number]}'s")
        elif number:
            mobiles[number] = p.name

    if config.settings.routing_model not in ROUTING_MODELS:
        add("error", "Settings", f"Routing Model {config.settings.routing_model!r} is not one of "
                                 f"{', '.join(ROUTING_MODELS)}")

    for t in config.territories:
        for who in (t.producer, t.backup):
            if who and who.strip().lower() not in names:
                add("error", "Territories", f"{t.territory}: {who!r} matches no producer")

    weights = {w.factor.strip().lower(): w.weight for w in config.weights if w.factor.strip().lower() in FACTORS}
    if weights:
        total = sum(v or 0 for v in weights.values())
        if abs(total - 100) > 0.01:
            add("error", "Weights", f"factor weights sum to {total:g}, not 100")

    for t in config.templates:
        for name in sorted(unknown_placeholders(t)):
            add("warning", "Templates", f"{t.key}: unknown placeholder [{name}]")
    return problems
