"""Source attribution: which Sources row a lead came from (utm_source, 'how did you hear')."""
from __future__ import annotations

from sheets_schema.models import Source

from automations.config import AgencyConfig
from .payload import norm


def attribute(hint: str, config: AgencyConfig) -> tuple[str, Source | None]:
    """The Sources row whose name or an alias appears in the hint; unknown hints are kept as given.

    People write sentences ('A friend - referral', 'my agent referred me', 'Google search'), so
    a name or alias counts as a whole word or phrase anywhere in the hint, and the longest one
    found wins: 'google search' (Website) beats 'google' (Google Ads). Ties go to the row
    listed first on the Sources tab.
    """
    text = (hint or "").strip() or config.settings.default_source
    words = norm(text).split()
    best: tuple[int, Source] | None = None
    for source in config.sources:
        for name in (source.source, *source.aliases):
            phrase = norm(name).split()
            if phrase and (best is None or len(" ".join(phrase)) > best[0]) and _contains(words, phrase):
                best = (len(" ".join(phrase)), source)
    return (best[1].source, best[1]) if best else (text, None)


def _contains(words: list[str], phrase: list[str]) -> bool:
    """Whether `phrase` occurs in `words` as consecutive whole words."""
    n = len(phrase)
    return any(words[i:i + n] == phrase for i in range(len(words) - n + 1))
