"""Loopback stand-ins for the AMSs, built from the vendors' published shapes; real clients talk to them.

- EpicFake: REST with an OAuth2 client-credentials token endpoint (form post -> bearer token),
  `POST /clients`, `GET /clients?externalReference|email|phone=`, `POST /clients/{id}/activities`.
  It does NOT deduplicate by Idempotency-Key (Applied does not promise it), so only our
  look-up-before-retry keeps a retried create from making a second client.
- Ams360Fake: a SOAP 1.1 service that serves its own WSDL (WSAPI v2's namespace, the
  WSAPIAuthToken header, Authenticate / InsertCustomer / InsertActivity / GetCustomerList);
  zeep reads the WSDL and calls it. Refusals are SOAP Faults, as ASMX sends them.
- WebhookReceiver: checks X-Leadrouter-Signature with its own HMAC code, as a receiver would.

Each is as unkind as the real thing where it matters: `delay` before the handler answers,
`outage` (503), `lose_answers` (the work is done, then the connection is dropped: the client
never hears), a refused field with the vendor's own message, bad credentials.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from lxml import etree

CLIENT_ID, CLIENT_SECRET = "leadrouter-test", "s3cret-epic"
AGENCY, LOGIN, PASSWORD = "1234", "wsapi-user", "s3cret-ams360"
WEBHOOK_SECRET = "whsec-test-0123456789abcdef"


class _Server:
    """A threaded HTTP server on 127.0.0.1 whose handler calls self.handle(request)."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.outage = False
        self.lose_answers = 0  # do the work, then drop the connection without answering (n times)
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                fake._serve(self)

            def do_POST(self) -> None:  # noqa: N802
                fake._serve(self)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if self.delay:
            time.sleep(self.delay)  # latency before the handler: the client waits for all of it
        with self.lock:
            self.requests.append((h.command, h.path))
        if self.outage:
            return self._send(h, 503, b"<html><body>Service Unavailable</body></html>", "text/html")
        status, payload, ctype = self.handle(h, body)
        with self.lock:
            lose = self.lose_answers > 0 and status < 300 and h.command == "POST" and self.losable(h)
            if lose:
                self.lose_answers -= 1
        if lose:  # the work is done; the answer never arrives
            h.close_connection = True
            h.connection.shutdown(2)
            return
        self._send(h, status, payload, ctype)

    def losable(self, h: BaseHTTPRequestHandler) -> bool:
        """Which answers `lose_answers` drops: the ones that create something."""
        return True

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: bytes, ctype: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)


# ---- Applied Epic (REST + OAuth2 client credentials) ---------------------------------------------
class EpicFake(_Server):
    REQUIRED = ("firstName", "lastName", "status", "dateReceived")

    def __init__(self) -> None:
        super().__init__()
        self.clients: dict[str, dict] = {}
        self.activities: list[dict] = []
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.refuse: tuple[str, str] | None = None  # (field, Epic's message): 422 for that field
        self.throttle = 0  # answer this many creates with 429 and a Retry-After, as a rate limit does
        self._ids = itertools.count(1001)

    def losable(self, h) -> bool:
        return h.path == "/clients"

    def add_existing(self, **client) -> str:
        ams_id = f"CL{next(self._ids)}"
        self.clients[ams_id] = {"id": ams_id, **client}
        return ams_id

    def handle(self, h, body: bytes):
        path = urlsplit(h.path)
        if path.path == "/oauth2/token" and h.command == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.token_requests += 1
            if form.get("grant_type") != "client_credentials":
                return self._json(400, {"error": "unsupported_grant_type"})
            if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                return self._json(401, {"error": "invalid_client",
                                        "error_description": "Client authentication failed"})
            token = f"tok-{len(self.tokens) + 1}"
            self.tokens.add(token)
            return self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})
        auth = h.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return self._json(401, {"message": "Invalid or expired access token"})
        if path.path == "/clients" and h.command == "POST":
            data = json.loads(body)
            missing = [f for f in self.REQUIRED if not data.get(f)]
            if missing:
                return self._json(422, {"message": f"Missing required field(s): {', '.join(missing)}"})
            if self.refuse and self.refuse[0] in data:
                return self._json(422, {"message": self.refuse[1]})
            if self.throttle > 0:
                self.throttle -= 1
                return self._json(429, {"message": "Rate limit exceeded: 60 requests per minute"})
            with self.lock:
                ams_id = f"CL{next(self._ids)}"
                self.clients[ams_id] = {"id": ams_id, **data}
            return self._json(201, {"id": ams_id})
        if path.path == "/clients" and h.command == "GET":
            query = {k: v[0] for k, v in parse_qs(path.query).items()}
            found = [c for c in self.clients.values() if all(str(c.get(k, "")).lower() == v.lower()
                                                             for k, v in query.items())]
            return self._json(200, {"items": found})
        parts = path.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "clients" and parts[2] == "activities" and h.command == "POST":
            if parts[1] not in self.clients:
                return self._json(404, {"message": f"Client {parts[1]} not found"})
            self.activities.append({"client": parts[1], **json.loads(body)})
            return self._json(201, {"id": f"AC{len(self.activities)}"})
        return self._json(404, {"message": "Not found"})

    @staticmethod
    def _json(status: int, data) -> tuple[int, bytes, str]:
        return status, json.dumps(data).encode(), "application/json"


# ---- AMS360 (SOAP, WSDL) -------------------------------------------------------------------------
NS = "http://www.WSAPI.AMS360.com/v2.0"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL = """<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:tns="{ns}" targetNamespace="{ns}">
  <wsdl:types>
    <s:schema elementFormDefault="qualified" targetNamespace="{ns}">
      <s:element name="WSAPIAuthToken"><s:complexType><s:sequence>
        <s:element minOccurs="0" name="Token" type="s:string"/></s:sequence></s:complexType></s:element>
      <s:element name="Authenticate_Request"><s:complexType><s:sequence>
        <s:element minOccurs="0" name="AgencyNo" type="s:string"/>
        <s:element minOccurs="0" name="LoginId" type="s:string"/>
        <s:element minOccurs="0" name="Password" type="s:string"/>
        <s:element minOccurs="0" name="EmployeeCode" type="s:string"/></s:sequence></s:complexType></s:element>
      <s:element name="Authenticate_Response"><s:complexType><s:sequence>
        <s:element minOccurs="0" name="Token" type="s:string"/></s:sequence></s:complexType></s:element>
      <s:complexType name="Customer"><s:sequence>
        <s:element minOccurs="0" name="CustomerId" type="s:string"/>
        <s:element minOccurs="0" name="LastName" type="s:string"/>
        <s:element minOccurs="0" name="FirstName" type="s:string"/>
        <s:element minOccurs="0" name="State" type="s:string"/>
        <s:element minOccurs="0" name="ZipCode" type="s:string"/>
        <s:element minOccurs="0" name="CellAreaCode" type="s:string"/>
        <s:element minOccurs="0" name="CellPhone" type="s:string"/>
        <s:element minOccurs="0" name="Email" type="s:string"/>
        <s:element minOccurs="0" name="AccountRepCode" type="s:string"/></s:sequence></s:complexType>
      <s:element name="InsertCustomer_Request"><s:complexType><s:sequence>
        <s:element minOccurs="0" name="Customer" type="tns:Customer"/></s:sequence></s:complexType></s:element>
      <s:element name="InsertCustomer_Response"><s:complexType><s:sequence>
        <s:element minOccurs="0" name="CustomerId" type="s:string"/></s:sequence></s:complexType></s:element>
      <s:complexType name="Activity"><s:sequence>
        <s:element minOccurs="0" name="CustomerId" type="s:string"/>
        <s:element minOccurs="0" name="Description" type="s:string"/>
        <s:element minOccurs="0" name="ActivityAction" type="s:string"/>
        <s:element minOccurs="0" name="ActivityDate" type="s:string"/>
        <s:element minOccurs="0" name="EmployeeCode" type="s:string"/></s:sequence></s:complexType>
      <s:element name="InsertActivity_Request"><s:complexType><s:sequence>
        <s:element minOccurs="0" name="Activity" type="tns:Activity"/></s:sequence></s:complexType></s:element>
      <s:element name="InsertActivity_Response"><s:complexType><s:sequence>
        <s:element minOccurs="0" name="ActivityId" type="s:string"/></s:sequence></s:complexType></s:element>
      <s:element name="GetCustomerList_Request"><s:complexType><s:sequence>
        <s:element minOccurs="0" name="NamePrefix" type="s:string"/>
        <s:element minOccurs="0" name="TypeOfCustomer" type="s:string"/>
        <s:element minOccurs="0" name="GetRelatedData" type="s:boolean"/>
        <s:element minOccurs="0" name="FilterActive" type="s:boolean"/></s:sequence></s:complexType></s:element>
      <s:element name="GetCustomerList_Response"><s:complexType><s:sequence>
        <s:element minOccurs="0" name="CustomerList"><s:complexType><s:sequence>
          <s:element minOccurs="0" maxOccurs="unbounded" name="ListCustomer" type="tns:Customer"/>
        </s:sequence></s:complexType></s:element></s:sequence></s:complexType></s:element>
    </s:schema>
  </wsdl:types>
  <wsdl:message name="AuthHeader"><wsdl:part name="WSAPIAuthToken" element="tns:WSAPIAuthToken"/></wsdl:message>
  {messages}
  <wsdl:portType name="ServiceSoap">{ports}</wsdl:portType>
  <wsdl:binding name="ServiceSoap" type="tns:ServiceSoap">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>{bindings}
  </wsdl:binding>
  <wsdl:service name="Service"><wsdl:port name="ServiceSoap" binding="tns:ServiceSoap">
    <soap:address location="{address}"/></wsdl:port></wsdl:service>
</wsdl:definitions>"""
OPERATIONS = ("Authenticate", "InsertCustomer", "InsertActivity", "GetCustomerList")


def ams360_wsdl(address: str) -> str:
    messages = "".join(f'<wsdl:message name="{op}In"><wsdl:part name="parameters" element="tns:{op}_Request"/>'
                       f'</wsdl:message><wsdl:message name="{op}Out"><wsdl:part name="parameters" '
                       f'element="tns:{op}_Response"/></wsdl:message>' for op in OPERATIONS)
    ports = "".join(f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}In"/>'
                    f'<wsdl:output message="tns:{op}Out"/></wsdl:operation>' for op in OPERATIONS)
    header = '<soap:header message="tns:AuthHeader" part="WSAPIAuthToken" use="literal"/>'
    bindings = "".join(f'<wsdl:operation name="{op}"><soap:operation soapAction="{NS}/{op}" style="document"/>'
                       f'<wsdl:input><soap:body use="literal"/>{"" if op == "Authenticate" else header}'
                       f'</wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>'
                       for op in OPERATIONS)
    return WSDL.format(ns=NS, messages=messages, ports=ports, bindings=bindings, address=address)


class Ams360Fake(_Server):
    def __init__(self) -> None:
        super().__init__()
        self.customers: dict[str, dict[str, str]] = {}
        self.activities: list[dict[str, str]] = []
        self.tokens: set[str] = set()
        self.refuse: tuple[str, str] | None = None  # (element, WSAPI's fault text)
        self._ids = itertools.count(1)

    def losable(self, h) -> bool:
        return h.headers.get("SOAPAction", "").strip('"').endswith("/InsertCustomer")

    def handle(self, h, body: bytes):
        path = urlsplit(h.path)
        if h.command == "GET" and path.path == "/v2/service.asmx" and path.query.lower() == "wsdl":
            return 200, ams360_wsdl(self.url + "/v2/service.asmx").encode(), "text/xml; charset=utf-8"
        if h.command != "POST" or path.path != "/v2/service.asmx":
            return 404, b"not found", "text/plain"
        action = h.headers.get("SOAPAction", "").strip('"')
        op = action.rsplit("/", 1)[-1]
        envelope = etree.fromstring(body)
        request = envelope.find(f"{{{SOAP}}}Body/{{{NS}}}{op}_Request")
        if request is None:
            return self._fault(f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
        fields = _flat(request)
        if op == "Authenticate":
            if (fields.get("AgencyNo"), fields.get("LoginId"), fields.get("Password")) != (AGENCY, LOGIN, PASSWORD):
                return self._fault("Authentication failed: invalid agency number, login id or password")
            token = f"t{len(self.tokens) + 1}"
            self.tokens.add(token)
            return self._answer(op, f"<Token>{token}</Token>")
        token = envelope.findtext(f"{{{SOAP}}}Header/{{{NS}}}WSAPIAuthToken/{{{NS}}}Token")
        if token not in self.tokens:
            return self._fault("Invalid or expired WSAPIAuthToken: please Authenticate")
        if op == "InsertCustomer":
            if not fields.get("LastName"):
                return self._fault("LastName is required")
            if self.refuse and self.refuse[0] in fields:
                return self._fault(self.refuse[1])
            with self.lock:
                customer_id = f"{next(self._ids):08d}-0000-0000-0000-000000000000"
                self.customers[customer_id] = dict(fields, CustomerId=customer_id)
            return self._answer(op, f"<CustomerId>{customer_id}</CustomerId>")
        if op == "InsertActivity":
            if fields.get("CustomerId") not in self.customers:
                return self._fault(f"CustomerId {fields.get('CustomerId')} does not exist")
            self.activities.append(fields)
            return self._answer(op, f"<ActivityId>A{len(self.activities)}</ActivityId>")
        prefix = fields.get("NamePrefix", "").lower()
        found = [c for c in self.customers.values() if c.get("LastName", "").lower().startswith(prefix)]
        items = "".join("<ListCustomer>" + "".join(f"<{k}>{v}</{k}>" for k, v in _ordered(c)) + "</ListCustomer>"
                        for c in found)
        return self._answer(op, f"<CustomerList>{items}</CustomerList>")

    def _answer(self, op: str, inner: str):
        xml = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP}"><soap:Body>'
               f'<{op}_Response xmlns="{NS}">{inner}</{op}_Response></soap:Body></soap:Envelope>')
        return 200, xml.encode(), "text/xml; charset=utf-8"

    @staticmethod
    def _fault(text: str):
        xml = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP}"><soap:Body><soap:Fault>'
               f'<faultcode>soap:Server</faultcode><faultstring>{text}</faultstring></soap:Fault></soap:Body>'
               f'</soap:Envelope>')
        return 500, xml.encode(), "text/xml; charset=utf-8"


_ORDER = ("CustomerId", "LastName", "FirstName", "State", "ZipCode", "CellAreaCode", "CellPhone", "Email",
          "AccountRepCode")


def _ordered(customer: dict[str, str]):
    return [(k, customer[k]) for k in _ORDER if customer.get(k)]


def _flat(element) -> dict[str, str]:
    """Leaf elements' text by local name (the request's fields, nested ones included)."""
    return {etree.QName(e).localname: (e.text or "") for e in element.iter() if len(e) == 0 and e is not element}


# ---- the outbound webhook's receiver -----------------------------------------------------------------
class WebhookReceiver(_Server):
    def __init__(self, secret: str = WEBHOOK_SECRET) -> None:
        super().__init__()
        self.secret = secret
        self.events: list[dict] = []  # accepted, signature verified
        self.forged = 0
        self.fail = 0  # answer 500 this many times

    def handle(self, h, body: bytes):
        header = h.headers.get("X-Leadrouter-Signature", "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        expected = hmac.new(self.secret.encode(), f"{parts.get('t', '')}.".encode() + body,
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")) or abs(time.time() - int(parts.get("t", 0))) > 300:
            self.forged += 1
            return 400, b'{"error": "bad signature"}', "application/json"
        if self.fail > 0:
            self.fail -= 1
            return 500, b'{"error": "try later"}', "application/json"
        self.events.append(json.loads(body))
        return 200, b"{}", "application/json"
