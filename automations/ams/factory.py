"""The adapter that Settings -> AMS names, built once per distinct setting (tokens, sessions and
the AMS360 WSDL are kept between ticks). An owner who switches AMS in the sheet is followed on
the next tick, without a restart."""
from __future__ import annotations

import threading
from typing import Mapping

from automations.config import AgencyConfig

from .port import AMS, AmsClient, AmsError, AmsNote, AmsRecord
from .settings import AmsSettings


class Unconfigured:
    """The AMS chosen in Settings lacks what it needs: every call waits (nothing is lost) and the
    managers hear once, through the queue's credentials alert."""

    def __init__(self, name: str, missing: list[str]) -> None:
        self.name, self.reason = name, f"{name} is not configured: {', '.join(missing)} missing"

    def create_client(self, record: AmsRecord) -> str:
        raise AmsError(self.reason, credentials=True)

    def add_note(self, ams_id: str, record: AmsRecord, note: AmsNote) -> None:
        raise AmsError(self.reason, credentials=True)

    def find_client(self, **_: str) -> AmsClient | None:
        return None

    def verify(self) -> str:
        raise AmsError(self.reason, credentials=True)


def build(settings: AmsSettings) -> AMS | None:
    if not settings.enabled:
        return None
    missing = settings.missing()
    if missing:
        return Unconfigured(settings.kind, missing)
    if settings.kind == "epic":
        from .epic import EpicAms
        return EpicAms(settings)
    if settings.kind == "ams360":
        from .ams360 import Ams360
        return Ams360(settings)
    if settings.kind == "hawksoft":
        from .hawksoft import HawkSoftCsv
        return HawkSoftCsv(settings)
    from .webhook import WebhookAms
    return WebhookAms(settings)


class AmsProvider:
    """config -> the AMS adapter to use now (None when Settings -> AMS is none)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self._built: dict[AmsSettings, AMS | None] = {}
        self._lock = threading.Lock()

    def settings(self, config: AgencyConfig) -> AmsSettings:
        return AmsSettings.read(config.settings, self.env)

    def __call__(self, config: AgencyConfig) -> AMS | None:
        settings = self.settings(config)
        if not settings.enabled:
            return None
        with self._lock:
            if settings not in self._built:
                self._built[settings] = build(settings)
            return self._built[settings]
