"""What a routing model returns: who owns the lead, and a reason a person can read."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

Rows = tuple[dict, ...]


@dataclass(frozen=True)
class Decision:
    owner: str
    reason: str
    model: str
    # one row per candidate (for `leadrouter route`); a model may pass a function that builds
    # the rows, so the hot path never formats a table nobody reads
    table_source: Rows | Callable[[], Rows] = field(default=(), repr=False)
    state: dict[str, str] = field(default_factory=dict)  # e.g. the round-robin pointer to save
    fallback: bool = False

    @cached_property
    def table(self) -> Rows:
        source = self.table_source
        return tuple(source()) if callable(source) else tuple(source)


def render_table(rows: Rows | list[dict]) -> list[str]:
    """Rows of a Decision's table as aligned text lines, header first (for `leadrouter route`)."""
    if not rows:
        return []
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    return [line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)]
