"""Vertafore AMS360 through its SOAP web service (WSAPI) with zeep, from the WSDL.

The shapes follow WSAPI v2's published operation pages (namespace http://www.WSAPI.AMS360.com/v2.0,
a `WSAPIAuthToken` SOAP header carrying the token): Authenticate (agency number, login id,
password, employee code) -> token; InsertCustomer -> CustomerId; InsertActivity for notes;
GetCustomerList by name prefix for lookups (WSAPI has no search by email or phone, so the lead's
last name is searched and its email/phone matched here). The WSDL is read from
LEADROUTER_AMS360_API + Settings -> AMS360 WSDL Path and its operations are called at that same
base URL, so an override moves both. What a WSAPI user may do is set per user by the agency.
"""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import requests
import zeep
from zeep.exceptions import Error as ZeepError, Fault, TransportError
from zeep.helpers import serialize_object
from zeep.transports import Transport

from automations.contact import normalize_phone

from .port import AmsClient, AmsError, AmsNote, AmsRecord
from .settings import AmsSettings

NS = "http://www.WSAPI.AMS360.com/v2.0"
CREDENTIAL_WORDS = ("authenticat", "token", "login", "password", "credential", "not authorized", "unauthorized")
logging.getLogger("zeep").setLevel(logging.WARNING)


class Ams360:
    name = "AMS360"

    def __init__(self, settings: AmsSettings) -> None:
        self.s = settings
        self._service: Any = None
        self._client: zeep.Client | None = None
        self._token: str | None = None

    # ---- the port --------------------------------------------------------------------------
    def create_client(self, record: AmsRecord) -> str:
        area, number = _split_us(record.phone)
        customer = {"FirstName": record.first_name, "LastName": record.last_name, "Email": record.email,
                    "CellAreaCode": area, "CellPhone": number, "ZipCode": record.zip, "State": record.state}
        answer = self._call("InsertCustomer", Customer={k: v for k, v in customer.items() if v})
        customer_id = str(_value(answer, "CustomerId") or "")
        if not customer_id:
            raise AmsError(f"AMS360 answered InsertCustomer without a CustomerId: {str(answer)[:200]}")
        summary = (f"New lead {record.lead_id} from {record.source}: {record.insurance_type}"
                   f"{f' ({record.line})' if record.line else ''}, assigned to {record.assigned_to or 'nobody'}, "
                   f"status {record.status}, received {record.received_at[:16]}"
                   + (f". Notes: {record.notes[:1000]}" if record.notes else ""))
        self._activity(customer_id, summary, record.received_at)
        return customer_id

    def add_note(self, ams_id: str, record: AmsRecord, note: AmsNote) -> None:
        self._activity(ams_id, f"{note.event}: {note.text}", note.at)

    def find_client(self, *, email: str = "", phone: str = "", last_name: str = "",
                    reference: str = "") -> AmsClient | None:
        if not last_name or not (email or phone):
            return None
        answer = self._call("GetCustomerList", NamePrefix=last_name, GetRelatedData=False, FilterActive=True)
        wanted_email, wanted_phone = email.strip().lower(), normalize_phone(phone) if phone else None
        for c in _customers(answer):
            phones = {normalize_phone(f"{c.get(a) or ''}{c.get(p) or ''}") for a, p in
                      (("CellAreaCode", "CellPhone"), ("HomeAreaCode", "HomePhone"),
                       ("BusinessAreaCode", "BusinessPhone"))}
            if (wanted_email and str(c.get("Email") or "").strip().lower() == wanted_email) or \
                    (wanted_phone and wanted_phone in phones):
                return AmsClient(ams_id=str(c.get("CustomerId") or ""),
                                 name=f"{c.get('FirstName') or ''} {c.get('LastName') or ''}".strip(),
                                 email=str(c.get("Email") or ""), phone=wanted_phone or "",
                                 csr=str(c.get("AccountRepCode") or ""))
        return None

    def verify(self) -> str:
        self._token = None
        self._authenticate()
        return f"AMS360 at {self.s.ams360_api}: agency {self.s.ams360_agency} signed in"

    # ---- SOAP ------------------------------------------------------------------------------
    def _activity(self, customer_id: str, text: str, when: str) -> None:
        self._call("InsertActivity", Activity={"CustomerId": customer_id, "Description": text[:4000],
                                               "ActivityAction": "Note", "ActivityDate": when[:10],
                                               **({"EmployeeCode": self.s.ams360_employee}
                                                  if self.s.ams360_employee else {})})

    def _connect(self) -> Any:
        if self._service is None:
            wsdl = self.s.ams360_api + self.s.ams360_wsdl_path
            session = requests.Session()
            transport = Transport(session=session, timeout=self.s.timeout, operation_timeout=self.s.timeout)
            try:
                client = zeep.Client(wsdl, transport=transport)
            except (requests.RequestException, TransportError, ZeepError, OSError) as exc:
                raise AmsError(f"AMS360 WSDL not readable at {wsdl}: {type(exc).__name__}") from None
            binding = next(iter(client.wsdl.bindings))
            address = self.s.ams360_api + urlsplit(self.s.ams360_wsdl_path).path
            self._client, self._service = client, client.create_service(binding, address)
        return self._service

    def _authenticate(self) -> str:
        if self._token is None:
            answer = self._raw("Authenticate", headers=None, AgencyNo=self.s.ams360_agency,
                               LoginId=self.s.ams360_login, Password=self.s.ams360_password,
                               EmployeeCode=self.s.ams360_employee or None)
            token = _value(answer, "Token")
            if not token:
                raise AmsError("AMS360 Authenticate gave no token", credentials=True)
            self._token = str(token)
        return self._token

    def _call(self, operation: str, **kwargs: Any) -> Any:
        for attempt in (1, 2):
            header = self._client_header(self._authenticate())
            try:
                return self._raw(operation, headers=header, **kwargs)
            except AmsError as exc:
                if exc.credentials and attempt == 1:
                    self._token = None  # the token expired: sign in again, once
                    continue
                raise
        raise AmsError("unreachable")  # pragma: no cover

    def _client_header(self, token: str) -> Any:
        self._connect()
        assert self._client is not None
        return self._client.get_element(f"{{{NS}}}WSAPIAuthToken")(Token=token)

    def _raw(self, operation: str, headers: Any, **kwargs: Any) -> Any:
        service = self._connect()
        try:
            if headers is None:
                return getattr(service, operation)(**kwargs)
            return getattr(service, operation)(**kwargs, _soapheaders=[headers])
        except Fault as fault:
            message = f"AMS360 {operation}: {fault.message}"
            if any(w in str(fault.message).lower() for w in CREDENTIAL_WORDS):
                raise AmsError(message, credentials=True) from None
            raise AmsError(message, permanent=True) from None
        except TransportError as exc:
            raise AmsError(f"AMS360 {operation}: HTTP {exc.status_code}",
                           credentials=exc.status_code in (401, 403)) from None
        except (requests.RequestException, OSError) as exc:
            raise AmsError(f"AMS360 unreachable: {type(exc).__name__}") from None
        except ZeepError as exc:
            raise AmsError(f"AMS360 {operation}: {exc}") from None


def _value(answer: Any, name: str) -> Any:
    """zeep hands back a response with one child as that child's value, else an object."""
    return answer if isinstance(answer, (str, int)) else _get(answer, name)


def _get(answer: Any, name: str) -> Any:
    data = serialize_object(answer)
    if isinstance(data, dict):
        if name in data:
            return data[name]
        for value in data.values():
            found = _get(value, name) if isinstance(value, dict) else None
            if found:
                return found
    return None


def _customers(answer: Any) -> list[dict]:
    data = serialize_object(answer)
    listed = _get(data, "ListCustomer") if isinstance(data, dict) else data
    if isinstance(listed, dict):
        listed = [listed]
    return [c for c in (listed or []) if isinstance(c, dict)]


def _split_us(phone: str) -> tuple[str, str]:
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return (digits[:3], digits[3:]) if len(digits) == 10 else ("", digits)
