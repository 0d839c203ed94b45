"""Source attribution: which Sources row a lead came from (utm_source, 'how did you hear')."""
from __future__ import annotations

from sheets_schema.models import Source

from .config import AgencyConfig
from .form_payload import norm


def attribute(hint: str, config: AgencyConfig) -> tuple[str, Source | None]:
    """The Sources row whose name or alias matches the hint; unknown hints are kept as given."""
    wanted = norm(hint or config.settings.default_source)
    for source in config.sources:
        if wanted in {norm(source.source), *(norm(a) for a in source.aliases)}:
            return source.source, source
    for source in config.sources:  # 'Google Ads - Auto campaign' still means Google Ads
        if any(wanted.startswith(norm(a)) for a in source.aliases if len(norm(a)) > 3):
            return source.source, source
    return (hint or config.settings.default_source).strip(), None
