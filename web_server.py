"""The production HTTP server for `serve`, `demo` and the Procfile's web process: waitress.

Why waitress (measured in benchmarks/abuse.py): its single I/O thread reads every request
whole - headers and body - before one of the worker threads sees it, so a client that
trickles its headers a byte at a time holds a socket, not a worker; gunicorn's sync workers
(the old Procfile) were taken down by 8 such clients. Waitress also refuses two
Content-Length headers and a bare CR in a header; this module adds the last ambiguous framing
it accepts, Transfer-Encoding together with Content-Length (RFC 9112 6.1 lets a server
refuse it, and behind a proxy that reads the other header it is request smuggling).
"""
from __future__ import annotations

from typing import Any

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError

THREADS = 8  # workers for requests that have fully arrived; slow clients wait in the I/O loop, not here
CONNECTION_LIMIT = 1000  # open sockets (slow or idle) before new ones queue in the backlog
CHANNEL_TIMEOUT = 60  # seconds a connection may stay silent (idle keep-alive or stalled client)


class StrictRequestParser(HTTPRequestParser):
    """waitress's parser, refusing a request that carries both Transfer-Encoding and Content-Length."""

    def parse_header(self, header_plus: bytes) -> None:
        names = {line.split(b":", 1)[0].strip().lower() for line in header_plus.split(b"\r\n")[1:] if b":" in line}
        if b"transfer-encoding" in names and b"content-length" in names:
            raise ParsingError("both Transfer-Encoding and Content-Length: ambiguous framing")
        super().parse_header(header_plus)


class StrictChannel(HTTPChannel):
    parser_class = StrictRequestParser


def make_server(app: Any, host: str, port: int, **options: Any):
    """A waitress server for `app` (not yet running: call .run(); .effective_port tells the port)."""
    settings = dict(threads=THREADS, connection_limit=CONNECTION_LIMIT, channel_timeout=CHANNEL_TIMEOUT,
                    ident="leadrouter", clear_untrusted_proxy_headers=False)
    settings.update(options)
    server = create_server(app, host=host, port=port, **settings)  # one host and port: one TcpWSGIServer
    server.channel_class = StrictChannel
    return server
