"""Which AMS, where it is and how to sign in: Settings tab (what the owner chooses) + environment
(secrets and endpoint overrides). Read forgivingly ('Applied Epic', 'AMS 360', 'off'); anything
that cannot be used is a problem `leadrouter check` names, never a silent guess.

Details the vendors do not publish (Applied Epic's token and resource paths) are Settings rows
with a default, not constants: docs/ams.md says which.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from sheets_schema import cells

from automations.config import DEFAULT_SETTINGS, Settings

KINDS = ("none", "epic", "ams360", "hawksoft", "webhook")
_ALIASES = {
    "": "none", "none": "none", "no": "none", "n": "none", "off": "none", "false": "none", "0": "none",
    "epic": "epic", "applied epic": "epic", "applied": "epic",
    "ams360": "ams360", "ams 360": "ams360", "vertafore ams360": "ams360", "vertafore": "ams360",
    "hawksoft": "hawksoft", "hawk soft": "hawksoft", "hawksoft csv": "hawksoft", "csv": "hawksoft",
    "webhook": "webhook", "web hook": "webhook", "zapier": "webhook", "make": "webhook", "other": "webhook",
}
DEFAULT_AMS360_API = "https://wsapi.ams360.com"
MAX_LOOKUP_SECONDS = 2.0


def read_kind(text: str) -> str | None:
    """'Applied Epic' -> epic, 'AMS 360' -> ams360, '' / 'off' -> none; None when unknown."""
    key = " ".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    return _ALIASES.get(key) or _ALIASES.get(key.replace(" ", ""))


def read_seconds(text: str) -> float | None:
    """'0.3', '300 ms', '1 second', '0,5 s' -> seconds; None when unreadable or negative."""
    match = re.fullmatch(r"\s*([0-9]+(?:[.,][0-9]+)?)\s*(ms|milliseconds?|s|secs?|seconds?)?\s*", text.lower())
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    return value / 1000 if (match.group(2) or "").startswith("m") else value


@dataclass(frozen=True)
class AmsSettings:
    kind: str = "none"
    lookup_seconds: float = 0.3
    timeout: float = 10.0
    epic_api: str = ""
    epic_client_id: str = ""
    epic_client_secret: str = ""
    epic_token_path: str = "/oauth2/token"
    epic_clients_path: str = "/clients"
    epic_notes_path: str = "/clients/{id}/activities"
    epic_scope: str = ""
    ams360_api: str = DEFAULT_AMS360_API
    ams360_wsdl_path: str = "/v2/service.asmx?WSDL"
    ams360_agency: str = ""
    ams360_login: str = ""
    ams360_password: str = ""
    ams360_employee: str = ""
    hawksoft_folder: str = "hawksoft"
    webhook_url: str = ""
    webhook_secret: str = ""
    problems: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def enabled(self) -> bool:
        return self.kind != "none"

    @classmethod
    def read(cls, settings: Settings, env: Mapping[str, str]) -> "AmsSettings":
        problems: list[tuple[str, str]] = []
        text = settings.get("AMS")
        kind = read_kind(text)
        if kind is None:
            problems.append(("error", f"AMS {text!r} is not one of {', '.join(KINDS)}; no AMS is used until "
                                      "it is fixed"))
            kind = "none"
        seconds_text = settings.get("AMS Lookup Seconds")
        seconds = read_seconds(seconds_text)
        if seconds is None or seconds > MAX_LOOKUP_SECONDS:
            problems.append(("error", f"AMS Lookup Seconds {seconds_text!r} is not a number of seconds up to "
                                      f"{MAX_LOOKUP_SECONDS:g} (e.g. 0.3); {DEFAULT_SETTINGS['AMS Lookup Seconds']} "
                                      "is used"))
            seconds = float(DEFAULT_SETTINGS["AMS Lookup Seconds"])
        timeout = cells.parse_number(env.get("LEADROUTER_AMS_TIMEOUT", "") or "10") or 10.0
        return cls(
            kind=kind, lookup_seconds=seconds, timeout=timeout if timeout > 0 else 10.0,
            epic_api=env.get("LEADROUTER_EPIC_API", "").rstrip("/") or settings.get("Epic API URL").rstrip("/"),
            epic_client_id=env.get("LEADROUTER_EPIC_CLIENT_ID", ""),
            epic_client_secret=env.get("LEADROUTER_EPIC_CLIENT_SECRET", ""),
            epic_token_path=settings.get("Epic Token Path"), epic_clients_path=settings.get("Epic Clients Path"),
            epic_notes_path=settings.get("Epic Notes Path"), epic_scope=settings.get("Epic Scope"),
            ams360_api=(env.get("LEADROUTER_AMS360_API", "") or DEFAULT_AMS360_API).rstrip("/"),
            ams360_wsdl_path=settings.get("AMS360 WSDL Path"),
            ams360_agency=env.get("LEADROUTER_AMS360_AGENCY", "") or settings.get("AMS360 Agency Number"),
            ams360_login=env.get("LEADROUTER_AMS360_LOGIN", ""),
            ams360_password=env.get("LEADROUTER_AMS360_PASSWORD", ""),
            ams360_employee=env.get("LEADROUTER_AMS360_EMPLOYEE", ""),
            hawksoft_folder=settings.get("HawkSoft Folder"),
            webhook_url=env.get("LEADROUTER_AMS_WEBHOOK_URL", ""),
            webhook_secret=env.get("LEADROUTER_AMS_WEBHOOK_SECRET", ""),
            problems=tuple(problems),
        )

    def missing(self) -> list[str]:
        """What the chosen AMS needs and does not have (names of settings/variables)."""
        need = {
            "epic": {"LEADROUTER_EPIC_API (or Settings: Epic API URL)": self.epic_api,
                     "LEADROUTER_EPIC_CLIENT_ID": self.epic_client_id,
                     "LEADROUTER_EPIC_CLIENT_SECRET": self.epic_client_secret},
            "ams360": {"LEADROUTER_AMS360_AGENCY (or Settings: AMS360 Agency Number)": self.ams360_agency,
                       "LEADROUTER_AMS360_LOGIN": self.ams360_login,
                       "LEADROUTER_AMS360_PASSWORD": self.ams360_password},
            "hawksoft": {"Settings: HawkSoft Folder": self.hawksoft_folder},
            "webhook": {"LEADROUTER_AMS_WEBHOOK_URL": self.webhook_url,
                        "LEADROUTER_AMS_WEBHOOK_SECRET": self.webhook_secret},
        }.get(self.kind, {})
        return [name for name, value in need.items() if not str(value).strip()]
