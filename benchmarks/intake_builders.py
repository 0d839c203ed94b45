"""What reading builders' posts by meaning costs: POST /leads of each builder's fixture, against
the same lead posted with our own field names (what an owner would otherwise hand-map in Zapier).

    python benchmarks/intake_builders.py [--posts 200]

Each post is a new lead (email and phone varied) on a fresh SQLite file, through the WSGI app,
messages sent inline to the console. Prints per builder the median and p95 latency in ms and the
difference to the plain post, and the time to read the body alone (parse µs). Target: reading
a builder's shape costs under 1 ms of CPU per post (parse µs), small beside the store's write.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from automations.notify.channels.console import ConsoleNotifier  # noqa: E402
from sheets_schema.demo import demo_rows  # noqa: E402
from sheets_schema.sql_store import SqlStore  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "intake"
CASES = [("plain JSON (our names)", None, "application/json"),
         ("Elementor advanced", "elementor_advanced.txt", "application/x-www-form-urlencoded"),
         ("Gravity form-encoded", "gravity_form3.txt", "application/x-www-form-urlencoded"),
         ("Jotform multipart", "jotform_renters.multipart", (FIXTURES / "jotform.content-type").read_text()),
         ("Typeform", "typeform_home.json", "application/json"),
         ("Meta lead object", "meta_lead_home.json", "application/json"),
         ("Lead exchange", "exchange_home.json", "application/json")]
GRAVITY = [dict(key=k, field=f) for k, f in (("1.3", "first_name"), ("1.6", "last_name"), ("2", "email"),
                                           ("3", "phone"), ("4.5", "zip"), ("5", "insurance_type"))]
PLAIN = ('{"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", "phone": "2015550171", '
         '"zip": "10150", "insurance_type": "Home", "consent": "yes"}')


def run(name: str | None, content_type: str, posts: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{tmp}/bench.db")
        store.init()
        for tab, rows in demo_rows().items():
            store.replace_rows(tab, rows)
        # one builder's body, posted again and again: the same person from one address, which the
        # public limits would refuse after a few (benchmarks/abuse.py measures those limits)
        store.replace_rows("Settings", [r for r in store.read_rows("Settings")] +
                           [{"setting": "Duplicate Window", "value": "0"},
                            {"setting": "Form Posts Per Minute", "value": "off"},
                            {"setting": "Form Posts Per Contact Per Hour", "value": "off"}])
        store.replace_rows("Form Fields", GRAVITY)
        app = create_app({"TESTING": True, "SEND_INLINE": True}, store=store, notifier=ConsoleNotifier())
        client = app.test_client()
        body = (FIXTURES / name).read_bytes() if name else PLAIN.encode()
        times = []
        for i in range(posts):
            start = time.perf_counter()
            r = client.post("/leads", data=body, content_type=content_type)
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code in (200, 201), (name, r.get_json())
        store.close()
        return times


def parse_only(name: str | None, content_type: str, rounds: int = 300) -> float:
    """Microseconds to read one body into a validated lead form (no store, no routing)."""
    import json
    import urllib.parse
    from automations.config import AgencyConfig
    from automations.intake.payload import unbracket
    from automations.intake.validation import parse_submission
    config = AgencyConfig.from_rows({**demo_rows(), "Form Fields": GRAVITY})
    raw = (FIXTURES / name).read_bytes() if name else PLAIN.encode()
    if content_type.startswith("multipart"):
        from werkzeug.test import EnvironBuilder
        env = EnvironBuilder(method="POST", data=raw, content_type=content_type).get_request()
        payload = lambda: unbracket(list(env.form.items(multi=True)))  # noqa: E731
    elif "urlencoded" in content_type:
        payload = lambda: unbracket(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))  # noqa: E731
    else:
        payload = lambda: json.loads(raw)  # noqa: E731
    start = time.perf_counter()
    for _ in range(rounds):
        parse_submission(payload(), config, public=False)
    return (time.perf_counter() - start) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    base = None
    print(f"{'builder':<26} {'parse µs':>9} {'POST median ms':>15} {'p95 ms':>8} {'vs plain ms':>12}")
    for label, name, content_type in CASES:
        parse = parse_only(name, content_type)
        times = sorted(run(name, content_type, args.posts))
        median, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
        base = base if base is not None else median
        print(f"{label:<26} {parse:>9.0f} {median:>15.2f} {p95:>8.2f} {median - base:>+12.2f}")


if __name__ == "__main__":
    main()
