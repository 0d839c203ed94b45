"""`leadrouter check` for call connect: the settings as read, and what Twilio Voice still needs."""
from __future__ import annotations

from automations.checks import Problem
from automations.config import AgencyConfig
from automations.contact import normalize_phone

from .settings import CallSettings


def check_call_connect(config: AgencyConfig, *, public_url: str, voice_configured: bool) -> list[Problem]:
    """Unreadable Call Connect settings (their defaults are used), and, when it is on, a missing
    public URL or Twilio number (offers would wait, then be dropped) or a producer with no Mobile."""
    settings = CallSettings.from_settings(config.settings)
    problems = [Problem("error", "Settings", f"{p} (Call Connect)") for p in settings.problems]
    if not settings.enabled:
        return problems
    if not (public_url.strip() or config.settings.get("Public URL")):
        problems.append(Problem("error", "Settings", "Call Connect is Y but there is no Public URL (set "
                                                     "LEADROUTER_PUBLIC_URL): Twilio could not fetch the calls"))
    if not voice_configured:
        problems.append(Problem("error", "Settings", "Call Connect is Y but Twilio Voice is not set up "
                                                     "(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a voice number)"))
    for p in config.producers:
        if p.role == "Producer" and p.is_active and not normalize_phone(p.mobile or ""):
            problems.append(Problem("warning", "Producers", f"{p.name}: no Mobile, so call connect cannot ring them"))
    return problems
