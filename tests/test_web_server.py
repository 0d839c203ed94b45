"""Issue 14, item 2: the production server (waitress, app.make_server) behind `serve`, `demo` and `web`:
slow clients cannot starve it, and ambiguous framing is refused."""
from __future__ import annotations

import socket
import threading
import time
import urllib.request

import pytest

from app import create_app
from app import make_server


@pytest.fixture
def live(demo_store, clock, notifier):
    app = create_app({"TESTING": True, "SEND_INLINE": True}, store=demo_store, clock=clock, notifier=notifier)
    server = make_server(app, "127.0.0.1", 0)
    stopping = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except OSError:  # closed from this thread while its select() waited: only at the end of the test
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.effective_port
    stopping.set()
    server.close()
    thread.join(5)


def raw(port: int, request: bytes) -> bytes:
    """The status line the server answers a hand-written request with."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n")[0]


BODY = b'{"first_name":"Ann","last_name":"Lee","email":"ann@example.com","phone":"2015550150","zip":"10150",' \
       b'"insurance_type":"Auto"}'


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name, headers", [
    ("two Content-Length", b"Content-Length: %d\r\nContent-Length: %d\r\n"),
    ("Transfer-Encoding with Content-Length", b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n"),
    ("a bare CR inside a header", b"X-Note: a\rb\r\nContent-Length: %d\r\n"),
])
def test_ambiguous_framing_is_refused_and_nothing_is_stored(live, demo_store, name, headers):
    count = headers.count(b"%d")
    head = headers % ((len(BODY),) * count)
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY) if b"chunked" in headers else BODY
    status = raw(live, b"POST /leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + head
                 + b"Connection: close\r\n\r\n" + body)
    assert status.split(b" ")[1] == b"400", (name, status)
    assert demo_store.leads() == []


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_plain_post_still_works_through_the_server(live, demo_store):
    status = raw(live, b"POST /leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                       b"Connection: close\r\n\r\n%s" % (len(BODY), BODY))
    assert status.split(b" ")[1] == b"201" and len(demo_store.leads()) == 1


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_healthz_answers_while_50_slow_clients_trickle_their_headers(live):
    """Bounded: 50 loopback sockets, one header byte each 0.1 s for about 3 s, while /healthz is asked 15 times."""
    stop = threading.Event()
    sockets = [socket.create_connection(("127.0.0.1", live), timeout=5) for _ in range(50)]

    def trickle(s: socket.socket) -> None:
        line = b"POST /leads HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000
        for byte in line:
            if stop.is_set():
                return
            try:
                s.send(bytes([byte]))
            except OSError:
                return
            stop.wait(0.1)

    threads = [threading.Thread(target=trickle, args=(s,), daemon=True) for s in sockets]
    for t in threads:
        t.start()
    answers = []
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and len(answers) < 15:
            started = time.monotonic()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{live}/healthz", timeout=2) as r:
                    answers.append((r.status, time.monotonic() - started))
            except OSError as exc:
                answers.append((type(exc).__name__, time.monotonic() - started))
            stop.wait(0.15)
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        for s in sockets:
            s.close()
    assert len(answers) >= 10 and all(status == 200 for status, _ in answers), answers
    assert max(took for _, took in answers) < 1.0
