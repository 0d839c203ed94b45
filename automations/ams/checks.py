"""`leadrouter check` for the AMS: settings and environment (offline), credentials (--online)."""
from __future__ import annotations

from typing import Mapping

from automations.config import AgencyConfig

from .factory import build
from .port import AmsError
from .settings import AmsSettings


def ams_problems(config: AgencyConfig, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(level, message) for Settings -> AMS and what the chosen AMS needs."""
    settings = AmsSettings.read(config.settings, env)
    out = list(settings.problems)
    missing = settings.missing()
    if settings.enabled and missing:
        out.append(("error", f"AMS {settings.kind}: {', '.join(missing)} not set; leads wait for the AMS "
                             "(none is lost) until it is"))
    if settings.kind == "webhook" and settings.webhook_url and \
            not settings.webhook_url.lower().startswith(("https://", "http://")):
        out.append(("error", f"LEADROUTER_AMS_WEBHOOK_URL {settings.webhook_url!r} is not an http(s) address"))
    elif settings.kind == "webhook" and settings.webhook_url.lower().startswith("http://"):
        out.append(("warning", "LEADROUTER_AMS_WEBHOOK_URL is plain http: lead details travel unencrypted"))
    if settings.kind == "webhook" and settings.webhook_secret and len(settings.webhook_secret) < 16:
        out.append(("warning", "LEADROUTER_AMS_WEBHOOK_SECRET is shorter than 16 characters"))
    return out


def ams_online(config: AgencyConfig, env: Mapping[str, str]) -> tuple[str, str]:
    """Sign in to the chosen AMS: ('ok', what was reached) or ('error', the AMS's message)."""
    settings = AmsSettings.read(config.settings, env)
    ams = build(settings)
    if ams is None:
        return "ok", "no AMS chosen (Settings: AMS = none)"
    try:
        return "ok", ams.verify()
    except AmsError as exc:
        return "error", f"{ams.name}: {exc}"
