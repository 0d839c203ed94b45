"""A Meta Graph API stand-in on 127.0.0.1 for Lead Ads: GET /<version>/<leadgen id>?access_token=...

Unkind where Graph is: a wrong token gets Graph's OAuthException (code 190, HTTP 400), an
unknown lead GraphMethodException (code 100), and `delay` makes it slow before answering.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "EAAG-test-page-token"


class GraphFake:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.leads: dict[str, dict] = {}
        self.requests: list[str] = []
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        time.sleep(self.delay)
        parts = urlsplit(h.path)
        self.requests.append(parts.path)
        token = parse_qs(parts.query).get("access_token", [""])[0]
        lead_id = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if token != self.token:
            status, body = 400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException",
                                           "code": 190, "fbtrace_id": "A1"}}
        elif lead_id not in self.leads:
            status, body = 400, {"error": {"message": f"Unsupported get request. Object with ID '{lead_id}' "
                                                      "does not exist", "type": "GraphMethodException", "code": 100}}
        else:
            status, body = 200, self.leads[lead_id]
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
