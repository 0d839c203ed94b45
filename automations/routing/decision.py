"""What a routing model returns: who owns the lead, and a reason a person can read."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decision:
    owner: str
    reason: str
    model: str
    table: tuple[dict, ...] = ()  # one row per candidate (for `leadrouter route`)
    state: dict[str, str] = field(default_factory=dict)  # e.g. the round-robin pointer to save
    fallback: bool = False
