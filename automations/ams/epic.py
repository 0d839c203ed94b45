"""Applied Epic over REST: OAuth2 client credentials, then clients and their activities.

Applied publishes Epic's API to partners only; its token and resource paths and field names are
not public, so they are Settings rows (Epic Token Path, Epic Clients Path, Epic Notes Path) with
the guide's `POST /clients` as the default, and docs/ams.md says what is unverified. The lead id
goes along as `externalReference` and as an `Idempotency-Key` header, and a retried create looks
for it first (GET clients?externalReference=...), so a lost answer never makes a second client.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import requests

from .http_errors import error_for
from .port import AmsClient, AmsError, AmsNote, AmsRecord
from .settings import AmsSettings


class EpicAms:
    name = "Applied Epic"

    def __init__(self, settings: AmsSettings, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.s = settings
        self.session = requests.Session()
        self._token: tuple[str, float] | None = None
        self._monotonic = monotonic

    # ---- the port --------------------------------------------------------------------------
    def create_client(self, record: AmsRecord) -> str:
        body = self._call("POST", self.s.epic_clients_path, json=client_body(record),
                          headers={"Idempotency-Key": record.lead_id})
        ams_id = _id_of(body)
        if not ams_id:
            raise AmsError(f"Epic answered without a client id: {str(body)[:200]}")
        return ams_id

    def add_note(self, ams_id: str, record: AmsRecord, note: AmsNote) -> None:
        self._call("POST", self.s.epic_notes_path.replace("{id}", ams_id),
                   json={"type": "Note", "subject": _subject(note), "description": note.text, "date": note.at,
                         "event": note.event, "externalReference": record.lead_id})

    def find_client(self, *, email: str = "", phone: str = "", last_name: str = "",
                    reference: str = "") -> AmsClient | None:
        queries = [{"externalReference": reference}] if reference else []
        queries += [{"email": email}] if email else []
        queries += [{"phone": phone}] if phone else []
        for params in queries:
            found = self._call("GET", self.s.epic_clients_path, params=params)
            items = found.get("items", found.get("clients", found)) if isinstance(found, dict) else found
            if isinstance(items, list) and items and isinstance(items[0], dict):
                first = items[0]
                return AmsClient(ams_id=_id_of(first), name=str(first.get("name", "")),
                                 email=str(first.get("email", "")), phone=str(first.get("phone", "")),
                                 csr=str(first.get("csr", first.get("accountManager", ""))))
        return None

    def verify(self) -> str:
        self._token = None
        self._bearer()
        return f"Applied Epic at {self.s.epic_api}: token granted"

    # ---- HTTP ------------------------------------------------------------------------------
    def _bearer(self) -> str:
        if self._token and self._token[1] > self._monotonic():
            return self._token[0]
        data = {"grant_type": "client_credentials", "client_id": self.s.epic_client_id,
                "client_secret": self.s.epic_client_secret}
        if self.s.epic_scope:
            data["scope"] = self.s.epic_scope
        response = self._send("POST", self.s.epic_token_path, data=data)
        if response.status_code in (400, 401, 403):  # OAuth2 says 400 invalid_client; either way: credentials
            raise AmsError(error_for(401, response.text).args[0], credentials=True)
        if response.status_code >= 300:
            raise error_for(response.status_code, response.text)
        token = response.json()
        seconds = float(token.get("expires_in") or 3600)
        self._token = (token["access_token"], self._monotonic() + max(seconds - 60, seconds / 2))
        return self._token[0]

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        for attempt in (1, 2):
            headers = dict(kwargs.pop("headers", None) or {}, Authorization=f"Bearer {self._bearer()}")
            response = self._send(method, path, headers=headers, **kwargs)
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            if response.status_code == 401 and attempt == 1:
                self._token = None  # expired early: one new token, one more try
                continue
            if response.status_code >= 300:
                raise error_for(response.status_code, response.text)
            return response.json() if response.content else {}
        raise AmsError("unreachable")  # pragma: no cover

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self.s.epic_api:
            raise AmsError("no Epic API URL (LEADROUTER_EPIC_API)", credentials=True)
        try:
            return self.session.request(method, self.s.epic_api + path, timeout=self.s.timeout, **kwargs)
        except requests.RequestException as exc:
            raise AmsError(f"Epic unreachable: {type(exc).__name__}") from None


def client_body(record: AmsRecord) -> dict[str, str]:
    """The guide's minimum lead record, in Epic's camelCase (field names unverified: docs/ams.md)."""
    return {"externalReference": record.lead_id, "firstName": record.first_name, "lastName": record.last_name,
            "phone": record.phone, "email": record.email, "source": record.source,
            "insuranceType": record.insurance_type, "line": record.line, "assignedProducer": record.assigned_to,
            "status": record.status, "dateReceived": record.received_at, "notes": record.notes,
            "zip": record.zip, "state": record.state, "type": "Prospect"}


def _id_of(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("id", "clientId", "clientID", "lookupCode"):
            if body.get(key):
                return str(body[key])
    return ""


def _subject(note: AmsNote) -> str:
    return {"lead.status": "Lead status", "lead.reassigned": "Lead reassigned"}.get(note.event, note.event)
