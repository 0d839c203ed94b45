"""A Twilio REST API stand-in on 127.0.0.1: the real twilio client talks to it over HTTP.

It checks what Twilio would check (the account in the path, Basic auth with the account SID
and auth token) and answers with Twilio-shaped JSON: a message resource on success, Twilio's
error document (code, message, more_info, status) on failure. Tests switch it into an
outage or a specific error, or make it slow (`delay`: it takes the message, then answers that
many seconds later, as a slow Twilio does); it records every form body it received.
"""
from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


class TwilioFake:
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.received: list[dict[str, list[str]]] = []  # accepted messages' form bodies
        self.received_at: list[float] = []  # time.perf_counter() of each accepted message
        self.resources: list[dict] = []  # the message resources it created, as GET Messages.json lists them
        self.lookups = 0
        self.refused: list[dict[str, list[str]]] = []
        self.error: tuple[int, int | None, str] | None = None  # (HTTP status, Twilio code, message)
        self.bad_auth = 0
        self.delay = 0.0  # seconds between accepting a message and answering
        self.calls: list[dict[str, list[str]]] = []  # accepted calls' form bodies (Calls.json)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                fake._list(self)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> "TwilioFake":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def outage(self) -> None:
        self.error = (503, None, "Service Unavailable")

    def recover(self) -> None:
        self.error = None

    def bodies(self) -> list[str]:
        return [r["Body"][0] for r in self.received]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        form = parse_qs(h.rfile.read(length).decode("utf-8"), keep_blank_values=True)
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        calls = h.path == f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        if h.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json" and not calls:
            return self._answer(h, 404, _error(20404, "The requested resource was not found", 404))
        if h.headers.get("Authorization") != expected:
            self.bad_auth += 1
            return self._answer(h, 401, _error(20003, "Authenticate", 401))
        if calls:
            return self._call(h, form)
        with self._lock:
            if self.error is not None:
                status, code, text = self.error
                self.refused.append(form)
                return self._answer(h, status, _error(code, text, status))
            self.received.append(form)
            self.received_at.append(time.perf_counter())
            n = len(self.received)
        if self.delay:
            time.sleep(self.delay)  # the message is taken; the answer comes late (or to nobody)
        sender = form.get("From", [""])[0]
        resource = {
            "sid": f"SM{n:032x}", "account_sid": self.account_sid, "to": form["To"][0], "from": sender or None,
            "messaging_service_sid": form.get("MessagingServiceSid", [None])[0], "body": form["Body"][0],
            "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            "date_created": "Tue, 24 Nov 2026 15:00:00 +0000", "date_updated": "Tue, 24 Nov 2026 15:00:00 +0000",
            "date_sent": None, "error_code": None, "error_message": None, "price": None, "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/SM{n:032x}.json",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/SM{n:032x}/Media.json"},
        }
        with self._lock:
            self.resources.append(resource)
        self._answer(h, 201, resource)

    def _list(self, h: BaseHTTPRequestHandler) -> None:
        """GET Messages.json: newest first, filtered by To, paged as Twilio pages (PageSize)."""
        from urllib.parse import urlsplit
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        url = urlsplit(h.path)
        if url.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return self._answer(h, 404, _error(20404, "The requested resource was not found", 404))
        if h.headers.get("Authorization") != expected:
            self.bad_auth += 1
            return self._answer(h, 401, _error(20003, "Authenticate", 401))
        if self.error is not None:
            status, code, text = self.error
            return self._answer(h, status, _error(code, text, status))
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        size = int(query.get("PageSize", 50))
        with self._lock:
            self.lookups += 1
            found = [r for r in reversed(self.resources) if "To" not in query or r["to"] == query["To"]][:size]
        self._answer(h, 200, {"messages": found, "first_page_uri": url.path, "next_page_uri": None,
                              "previous_page_uri": None, "page": 0, "page_size": size, "uri": h.path,
                              "end": len(found) - 1, "start": 0})

    def _call(self, h: BaseHTTPRequestHandler, form: dict[str, list[str]]) -> None:
        """POST Calls.json as Twilio checks it: To, From, and instructions (Url, Twiml or
        ApplicationSid) are required; URLs must be absolute; callback events and AMD must be known."""
        problem = call_problem(form)
        if problem:
            self.refused.append(form)
            return self._answer(h, 400, _error(problem[0], problem[1], 400))
        with self._lock:
            if self.error is not None:
                status, code, text = self.error
                self.refused.append(form)
                return self._answer(h, status, _error(code, text, status))
            self.calls.append(form)
            n = len(self.calls)
        sid = f"CA{n:032x}"
        self._answer(h, 201, {
            "sid": sid, "account_sid": self.account_sid, "to": form["To"][0], "from": form["From"][0],
            "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01", "answered_by": None,
            "date_created": "Tue, 24 Nov 2026 15:00:00 +0000", "date_updated": "Tue, 24 Nov 2026 15:00:00 +0000",
            "start_time": None, "end_time": None, "duration": None, "price": None, "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json", "subresource_uris": {},
        })

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:  # the client gave up waiting (delay past its timeout)
            pass


def _error(code: int | None, message: str, status: int) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


CALL_EVENTS = {"initiated", "ringing", "answered", "completed"}
AMD = {"Enable", "DetectMessageEnd"}


def call_problem(form: dict[str, list[str]]) -> tuple[int, str] | None:
    """What Twilio would refuse in a Calls.json body (code, message), or None."""
    one = lambda name: (form.get(name) or [""])[0]  # noqa: E731
    if not one("To"):
        return 21201, "No 'To' number is specified"
    if not one("From"):
        return 21213, "No 'From' number is specified"
    if not (one("Url") or one("Twiml") or one("ApplicationSid")):
        return 21205, "Url parameter is required"
    for name in ("Url", "StatusCallback"):
        if one(name) and not one(name).startswith(("http://", "https://")):
            return 21205, f"{name} is not a valid URL: {one(name)}"
    if one("Method") not in ("", "GET", "POST") or one("StatusCallbackMethod") not in ("", "GET", "POST"):
        return 21207, "Method must be GET or POST"
    unknown = set(form.get("StatusCallbackEvent", [])) - CALL_EVENTS
    if unknown:
        return 21626, f"Invalid StatusCallbackEvent: {', '.join(sorted(unknown))}"
    if one("MachineDetection") and one("MachineDetection") not in AMD:
        return 21626, "MachineDetection must be Enable or DetectMessageEnd"
    return None
