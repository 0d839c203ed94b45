"""leadrouter's composition root: the Flask app factory, its HTTP endpoints and the CLI.

Above 600 lines because every endpoint and command of every capability is wired here, each a
few lines that call into automations/ (one section per capability, in the order of a lead's
life). Its next step is one blueprint and one command group per capability beside it, with the
shared `services()` in a module both import, so that no import circle appears.

Everything with I/O is chosen here from the environment (12-factor) and handed to the
domain (automations/) as ports: the store (sheets_schema.stores.open_store), the
notifier and the clock. Nothing connects at import time.
"""
from __future__ import annotations

import functools
import gc
import importlib
import json
import logging
import os
import re
import secrets
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import click
from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from flask.cli import with_appcontext
from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from werkzeug.exceptions import HTTPException

from automations.abuse_checks import check_abuse
from automations.checks import check_config
from automations.clock import Clock, SystemClock, for_people
from automations.contact import redact
from automations.one_line import escape_breaks
from automations.notify.channels.console import ConsoleNotifier
from automations.notify.channels.twilio import TwilioSms, signature_valid, twiml_reply
from automations.errors import InvalidLead, StoreNotReady, StoreUnavailable
from automations.intake.payload import unbracket
from automations.intake.captcha import Captcha, without_tokens
from automations.intake.validation import Honeypot
from automations.rate_limits import client_limits, contact_limits, over_limit
from automations.intake.meta_leadgen import leadgen_ids
from automations.intake.submission import Outcome, submit_lead
from automations.intake.validation import PostContext, Reading
from automations.notify.delivery import deliver_all
from automations.notify.unsubscribe import unsubscribe_link, unsubscribed_lead
from automations.ports import Message, Notifier, Store
from automations.routing import decide
from automations.routing.round_robin import POINTER
from sheets_schema.demo import demo_rows
from sheets_schema.models import Lead
from sheets_schema.stores import DEFAULT_STORE, open_existing_store, open_store
from sheets_schema.tabs import ROUTING_MODELS

log = logging.getLogger("leadrouter")
MAX_BODY = 1024 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
JSON_TYPES = ("application/json", "text/plain")


class Services:
    """The wired ports of one app: opened lazily, shared by requests and commands."""

    def __init__(self, app: Flask, store: Store | None, notifier: Notifier | None, clock: Clock | None) -> None:
        self.config = app.config
        self._store = store
        self._notifier = notifier
        self.clock: Clock = clock or SystemClock()
        self._pool: ThreadPoolExecutor | None = None
        self.captcha = Captcha.from_env(os.environ) if "CAPTCHA" not in app.config else app.config["CAPTCHA"]
        self.may_create = False  # only `init` and `demo` may create the store; everything else needs one

    @property
    def notifier(self) -> Notifier:
        """The given notifier, else channels from the environment (console when none is set)."""
        if self._notifier is None:
            self._notifier = build_notifier(self)
        return self._notifier

    @property
    def store(self) -> Store:
        if self._store is None:  # StoreNotReady (one sentence) when it does not exist yet: tried again next time
            url = self.config["STORE_URL"]
            self._store = open_store(url) if self.may_create else open_existing_store(url)
            try:  # log lines in the agency's time from now on
                AgencyTimeFormatter.tz = self._store.config().settings.tz
            except Exception:  # noqa: BLE001 - before `init` there are no tabs yet: machine time until then
                pass
        return self._store

    def dispatch(self, messages: list[Message]) -> None:
        """Send minute-0 messages right away: inline (tests) or on a small pool (serve)."""
        if not messages:
            return
        if self.config.get("SEND_INLINE"):
            deliver_all(messages, self.store, self.notifier, self.clock, policy=self.config.get("RETRY_POLICY"))
            return
        self._send_pool().submit(_safe_deliver, messages, self.store, self.notifier, self.clock,
                                 self.config.get("RETRY_POLICY"))

    def _send_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="send")
        return self._pool

    def warm_up(self) -> None:
        """The channels built and a send thread started now, not on the first lead's request."""
        assert self.notifier is not None
        if not self.config.get("SEND_INLINE"):
            self._send_pool().submit(lambda: None)

    def connect_call(self, lead_id: str) -> None:
        """Call connect (issue 15): ring the owner right after assignment, beside the minute-0 text."""
        if self.config.get("SEND_INLINE"):
            _safe_connect(self, lead_id)
            return
        self._send_pool().submit(_safe_connect, self, lead_id)

    def close(self) -> None:
        self.drain()
        if self._store is not None:
            self._store.close()

    def drain(self) -> None:
        """Wait for background sends (shutdown, tests)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        ams_pool = self.config.pop("AMS_POOL", None)
        if ams_pool is not None:
            ams_pool.shutdown(wait=True)


def _safe_deliver(messages, store, notifier, clock, policy=None) -> None:
    try:
        deliver_all(messages, store, notifier, clock, policy=policy)
    except Exception:  # the tick retries; a send error must not kill the pool thread silently
        log.exception("background delivery failed")


def services() -> Services:
    return current_app.extensions["leadrouter"]


def create_app(config: dict[str, Any] | None = None, *, store: Store | None = None,
               notifier: Notifier | None = None, clock: Clock | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        STORE_URL=os.environ.get("LEADROUTER_STORE", DEFAULT_STORE),
        MAX_CONTENT_LENGTH=MAX_BODY,
        API_KEYS=os.environ.get("LEADROUTER_API_KEYS", ""),
        DASHBOARD_TOKEN=os.environ.get("LEADROUTER_DASHBOARD_TOKEN", ""),
        SEND_INLINE=False,
    )
    app.config.from_mapping(notify_settings(os.environ))
    if config:
        app.config.update(config)
    app.extensions["leadrouter"] = Services(app, store, notifier, clock)
    proxies = int(_seconds(app.config.get("TRUSTED_PROXIES", os.environ.get("LEADROUTER_TRUSTED_PROXIES")), 0))
    if proxies:  # only then is X-Forwarded-For the client's address (else anyone could pick theirs)
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    _logging()  # here too: gunicorn builds the app without our CLI, and its logs must be masked as well
    app.register_blueprint(web)
    for command in COMMANDS:
        app.cli.add_command(_in_app_context(command))
    return app


def _in_app_context(command: click.Command) -> click.Command:
    """Commands run inside the app context (test_cli_runner included); wrapped once."""
    if not getattr(command.callback, "in_app_context", False):
        command.callback = with_appcontext(command.callback)
        command.callback.in_app_context = True
    return command


# ---- HTTP --------------------------------------------------------------------------------
web = Blueprint("web", __name__)


@web.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if request.path.startswith("/leads") or request.is_json:
        return jsonify(errors={"body": exc.description}), exc.code
    return exc


@web.errorhandler(StoreNotReady)
def store_not_ready(exc: StoreNotReady):
    """No store yet (before `init`): say so with 503 on every page and post; never 'thank you', never a 500."""
    log.error("cannot serve %s %s: %s", request.method, request.path, exc)
    wants_html = request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"
    if not wants_html or request.is_json or request.path.startswith(("/healthz", "/dashboard.json")):
        return jsonify(status="unavailable", errors={"store": f"This service cannot store leads yet. {exc}."}), 503
    return render_template("not_ready.html", reason=str(exc)), 503


@web.get("/healthz")
def healthz():
    try:
        services().store.get_state(POINTER)
    except StoreNotReady:
        raise
    except Exception as exc:  # noqa: BLE001 - any store failure means unhealthy
        return jsonify(status="unavailable", error=type(exc).__name__), 503
    warnings = _health_warnings()
    return jsonify(status="ok", **({"warning": " ".join(warnings)} if warnings else {}))


def _health_warnings() -> list[str]:
    """Up, but leads are not being worked: nobody can take a lead, or leads wait without an owner."""
    from automations.routing.ownerless import OWNERLESS_STATE, nobody_can_take, ownerless_alert
    store = services().store
    out = []
    try:
        waiting = [i for i in (store.get_state(OWNERLESS_STATE) or "").split(",") if i]
        out += [ownerless_alert(waiting) + "."] if waiting else []
        why = nobody_can_take(store.config())
        out += [why[0].upper() + why[1:] + "."] if why else []
    except Exception:  # noqa: BLE001 - the health check answers even when the tabs cannot be read
        log.exception("health warnings")
    return out


@web.get("/openapi.json")
def openapi_json():
    """The HTTP API as OpenAPI 3.1 (automations/intake/openapi.py)."""
    from automations.intake.openapi import spec
    return jsonify(spec(public_url(services())))


@web.app_context_processor
def _captcha_widget() -> dict[str, Any]:
    return {"captcha": services().captcha}


@web.get("/")
def form_page():
    services().store  # noqa: B018 - StoreNotReady: the form must not invite posts that cannot be stored
    return render_template("form.html", agency=_agency_name(), errors={}, values={})


def _agency_name() -> str:
    try:
        return services().store.config().settings.agency_name
    except Exception:  # noqa: BLE001 - the form must render even if the store is down
        return "our agency"


@web.post("/leads")
def post_lead():
    wants_html = request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"
    svc = services()
    reading = Reading()
    vendor = ""
    try:
        request.get_data(cache=True)  # the raw body stays readable after parsing: a refused post is kept whole
        vendor = _vendor()
        config = svc.store.config()
        refused = _over_limit(client_limits(config.settings, _client_ip(), vendor))
        if refused is not None:
            return refused
        payload = _payload()
        if leadgen_ids(payload):  # Meta's webhook: ids only, fetched from Graph (no CAPTCHA on a server's post)
            return _meta_leadgen(payload, vendor)
        captcha = svc.captcha
        if captcha is not None and not vendor:
            problem = captcha.problem(payload, _client_ip())
            if problem:
                raise InvalidLead({"captcha": problem})
        outcome = submit_lead(without_tokens(payload), svc.store, svc.clock, source=vendor, config=config,
                              admit=None if vendor else _contact_limit(config), context=_post_context(),
                              reading=reading, client_lookup=ams_client_lookup(svc))
    except RateLimited as exc:
        return exc.response
    except Honeypot as exc:  # masked contact details: enough to find a real person a browser's autofill dropped
        log.warning("honeypot field 'website' filled on a public post (%s); nothing stored", exc.who or "no contact")
        return (render_template("thanks.html", agency=_agency_name(), lead=None) if wants_html
                else (jsonify(status="received"), 200))
    except InvalidLead as exc:
        if not wants_html and "captcha" not in exc.errors:  # a person at our form page fixes them there;
            _keep_refused(exc, vendor, reading)  # a failed CAPTCHA is a bot's post, not a lead to keep
        if wants_html and exc.status == 422:
            values = request.form.to_dict() if request.mimetype in FORM_TYPES else {}
            return render_template("form.html", agency=_agency_name(), errors=exc.errors, values=values), 422
        return jsonify(errors=exc.errors), exc.status
    except StoreUnavailable:
        log.warning("store unavailable and no local copy to route from; post refused with 503")
        return jsonify(errors={"store": "temporarily unavailable, please retry"}), 503
    try:  # stored: from here on the post is answered as stored, whatever happens to the sending
        services().dispatch(outcome.messages)
        dispatch_ams(services(), outcome)
        if not outcome.duplicate:
            services().connect_call(outcome.lead.lead_id)
    except Exception:  # noqa: BLE001 - e.g. the pool is shut down (a deploy); the tick sends them
        log.exception("lead %s stored; its minute-0 messages wait for the tick", outcome.lead.lead_id)
    _remember_form(reading, outcome.lead.lead_id)
    if not outcome.lead.assigned_to.strip() and not outcome.duplicate:  # kept; said loudly, here and every tick
        log.error("ALERT: lead %s has NO OWNER: %s", outcome.lead.lead_id, outcome.lead.routing_reason)
    status = 200 if outcome.duplicate else 202 if services().store.queued(outcome.lead.lead_id) else 201
    if wants_html:
        return render_template("thanks.html", agency=_agency_name(), lead=outcome.lead), status
    return jsonify(_answer(outcome, public=not vendor)), status


def _answer(outcome: Outcome, public: bool = False) -> dict[str, Any]:
    """A new lead's owner and reason; a public duplicate learns only that it is one (no owner, no
    Status: anyone can type someone else's phone number), a vendor's keyed duplicate everything."""
    if outcome.duplicate and public:
        return {"lead_id": outcome.lead.lead_id, "duplicate": True}
    body = {"lead_id": outcome.lead.lead_id, "assigned_to": outcome.lead.assigned_to,
            "routing_reason": outcome.lead.routing_reason, "status": outcome.lead.status}
    if outcome.duplicate:
        body["duplicate"] = True
    elif not outcome.lead.assigned_to.strip():
        body["warning"] = "kept without an owner: nobody on the Producers tab can take it"
    return body


# ---- abuse limits (issue 14): per client IP, per vendor key, per phone/email -----------------
class RateLimited(Exception):
    """A limit refused the post after its body was read; carries the 429 to answer."""

    def __init__(self, response) -> None:
        super().__init__("rate limited")
        self.response = response


def _client_ip() -> str:
    """The peer's address; behind LEADROUTER_TRUSTED_PROXIES proxies, ProxyFix has put the client's there."""
    return request.remote_addr or "unknown"


def _over_limit(limits):
    """None when every limit allows this post; else the 429 answer (Retry-After; nothing is stored)."""
    svc = services()
    refusal = over_limit(limits, svc.store.hit, svc.clock.now())
    if refusal is None:
        return None
    log.warning("429 for %s: %s", refusal.limit.key.split(":")[0], refusal.reason)
    body = jsonify(errors={"rate_limit": refusal.reason})
    return body, 429, {"Retry-After": str(refusal.retry_after)}


def _contact_limit(config):
    """The admit hook of submit_lead: public posts naming one phone or email too often are refused."""
    def admit(form) -> None:
        refused = _over_limit(contact_limits(config.settings, form.phone, form.email))
        if refused is not None:
            raise RateLimited(refused)
    return admit


def _vendor() -> str:
    """A vendor's API key names its source; a wrong key is refused, no key is a public post."""
    presented = request.headers.get("X-API-Key", "")  # never in the URL: URLs end up in access logs
    auth = request.headers.get("Authorization", "")
    if not presented and auth.lower().startswith("bearer "):
        presented = auth[7:].strip()
    if not presented:
        return ""
    for entry in current_app.config["API_KEYS"].split(","):
        name, _, key = entry.strip().rpartition("=")
        if key and secrets.compare_digest(key.encode(), presented.encode()):
            return name
    raise InvalidLead({"api_key": "unknown API key"}, status=401)


def _payload() -> Any:
    """The request body as a Python object, or InvalidLead naming what is wrong with it."""
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        text = _utf8()
        try:
            pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=500)
        except UnicodeDecodeError:
            raise InvalidLead({"body": "not valid UTF-8"}, status=400) from None
        except ValueError as exc:
            raise InvalidLead({"body": str(exc)}, status=400) from None
        return unbracket(pairs)
    if mimetype == "multipart/form-data":
        pairs = [(k, v if isinstance(v, str) else "") for k, v in request.form.items(multi=True)]
        bad = next((k for k, v in pairs if "\ufffd" in v or "\ufffd" in k), None)
        if bad is not None:
            raise InvalidLead({bad: "not valid UTF-8"}, status=400)
        return unbracket(pairs)
    if mimetype in JSON_TYPES or mimetype.endswith("+json"):
        text = _utf8()
        try:
            return json.loads(text)
        except RecursionError:
            raise InvalidLead({"body": "JSON nested too deeply"}, status=400) from None
        except json.JSONDecodeError as exc:
            raise InvalidLead({"body": f"not valid JSON ({exc.msg} at line {exc.lineno})"}, status=400) from None
        except ValueError:  # Python's 4300-digit limit on int(): no form field is a number that long
            raise InvalidLead({"body": "not readable JSON (a number with too many digits)"}, status=400) from None
    raise InvalidLead({"content_type": f"unsupported content type {mimetype or '(none)'}; send JSON, "
                                      "application/x-www-form-urlencoded or multipart/form-data"}, status=415)


def _utf8() -> str:
    """The whole body as text; 413 for a chunked body past the limit, 400 for bytes that are not UTF-8.

    With no Content-Length (chunked), Werkzeug stops reading at MAX_CONTENT_LENGTH and hands
    back the first megabyte as if it were everything: a cut body could still parse as a lead.
    """
    from werkzeug.exceptions import RequestEntityTooLarge
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        raise RequestEntityTooLarge()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidLead({"body": "not valid UTF-8"}, status=400) from None


# ---- CLI -----------------------------------------------------------------------------------
def _store() -> Store:
    return services().store


def _local_json(lead_or_row: dict[str, Any], tz) -> dict[str, Any]:
    return {k: (v.astimezone(tz).isoformat() if isinstance(v, datetime) else v) for k, v in lead_or_row.items()}


@click.command("init")
@click.option("--demo", is_flag=True, help="Load the guide's demo agency into the config tabs.")
@click.option("--model", type=click.Choice(ROUTING_MODELS), default=None, help="Routing model to set.")
def init_command(demo: bool, model: str | None) -> None:
    """Create the tables/tabs (keeps existing data); --demo loads the demo agency."""
    services().may_create = True
    store = _store()
    store.init()
    if demo:
        for tab, rows in demo_rows(model or "round_robin").items():
            store.replace_rows(tab, rows)
    elif model:
        _set_setting(store, "Routing Model", model)
    click.echo(f"Initialised {_describe(current_app.config['STORE_URL'])}" + (" with the demo agency" if demo else ""))


def _set_setting(store: Store, name: str, value: str) -> None:
    rows = [r for r in store.read_rows("Settings") if r.get("setting", "").strip().lower() != name.lower()]
    store.replace_rows("Settings", rows + [{"setting": name, "value": value}])


def _describe(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


# ---- the HTTP server ------------------------------------------------------------------------
# The production HTTP server for `serve`, `demo` and the Procfile's web process: waitress.
#
# Why waitress (measured in benchmarks/abuse.py): its single I/O thread reads every request
# whole - headers and body - before one of the worker threads sees it, so a client that
# trickles its headers a byte at a time holds a socket, not a worker; gunicorn's sync workers
# (the old Procfile) were taken down by 8 such clients. Waitress also refuses two
# Content-Length headers and a bare CR in a header; this module adds the last ambiguous framing
# it accepts, Transfer-Encoding together with Content-Length (RFC 9112 6.1 lets a server
# refuse it, and behind a proxy that reads the other header it is request smuggling).
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


@click.command("serve")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int, show_default="8000")
def serve_command(host: str, port: int) -> None:
    """Run the web app and the speed clock (scheduler) in one process."""
    _serve(current_app._get_current_object(), host, port)


def _serve(app: Flask, host: str, port: int, speed_clock: bool = True, dashboard_token: str = "") -> None:
    """waitress (make_server: whole requests are buffered before a worker sees them), plus the
    speed clock unless this is the Procfile's web process. Starts with `check`'s errors."""
    _startup_check()
    server = make_server(app, host, port)
    warm_up(app)  # the first post costs what the others do (the sheet's layout, a token, the ZIP data)
    click.echo(f"leadrouter listening on http://{host}:{server.effective_port}/  (form: /, posts: /leads)")
    if dashboard_token:  # the token is typed into the sign-in page, never carried in a URL
        click.echo(f"Dashboard: http://{host}:{server.effective_port}/dashboard  (sign in with the token "
                   f"{dashboard_token})")
    clock = _start_speed_clock(app) if speed_clock else None  # here, not in create_app: web processes never tick
    _sigterm_as_interrupt()
    try:
        server.run()  # returns on KeyboardInterrupt (Ctrl-C, or SIGTERM through _sigterm_as_interrupt)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if clock is not None:
            clock.shutdown(wait=True)
        app.extensions["leadrouter"].drain()


@click.command("web")
@click.option("--host", default=lambda: os.environ.get("HOST", "0.0.0.0"), show_default="0.0.0.0")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int, show_default="8000")
def web_command(host: str, port: int) -> None:
    """The web app alone (the Procfile's web process; `leadrouter worker` runs the speed clock)."""
    _serve(current_app._get_current_object(), host, port, speed_clock=False)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int, show_default="8000")
def demo_command(host: str, port: int) -> None:
    """Load the demo agency into the embedded store (unless it already has producers), then serve."""
    services().may_create = True
    store = _store()
    store.init()
    if not store.read_rows("Producers"):
        for tab, rows in demo_rows().items():
            store.replace_rows(tab, rows)
        click.echo("Loaded the demo agency.")
    _serve(current_app._get_current_object(), host, port, dashboard_token=_demo_dashboard_token(store))


DEMO_DASHBOARD_TOKEN = "demo_dashboard_token"


def _demo_dashboard_token(store: Store) -> str:
    """The demo's dashboard opens with a printed link: LEADROUTER_DASHBOARD_TOKEN if set, else a token made
    once and kept in the store (the same link works after a restart)."""
    token = current_app.config.get("DASHBOARD_TOKEN", "")
    if not token:
        with store.exclusive():
            token = store.get_state(DEMO_DASHBOARD_TOKEN) or ""
            if not token:
                token = secrets.token_urlsafe(18)
                store.set_state(DEMO_DASHBOARD_TOKEN, token)
        current_app.config["DASHBOARD_TOKEN"] = token
    return token


@click.command("route")
@click.option("--zip", "zip_code", required=True, help="The lead's ZIP code.")
@click.option("--type", "insurance_type", required=True, help="Insurance type, e.g. Auto, BOP.")
@click.option("--source", default="", help="Lead source (name or alias).")
def route_command(zip_code: str, insurance_type: str, source: str) -> None:
    """Dry run: who would get a lead like this, and why. Nothing is stored."""
    from automations.contact import lookup_zip
    from automations.routing.decision import render_table
    from automations.intake.sources import attribute
    store = _store()
    config = store.config()
    place = lookup_zip(zip_code)
    if place is None:
        raise click.BadParameter("must be a 5-digit ZIP code", param_hint="--zip")
    line = config.line_of(insurance_type)
    source_name, _ = attribute(source, config)
    now = services().clock.now()
    lead = Lead(lead_id="L-0", received_at=now, zip=place.zip5, state=place.state, county=place.county,
                insurance_type=insurance_type, line=line.line if line else "", source=source_name)
    state = {POINTER: store.get_state(POINTER) or ""}
    decision = decide(lead, config, store.workload(now), state, now)
    click.echo(f"ZIP {place.zip5} ({place.county or 'unknown county'}, {place.state or '?'}), "
               f"{insurance_type} ({lead.line or 'no line'}), source {source_name}")
    click.echo(f"Model: {decision.model}" + (" (fallback: nobody available)" if decision.fallback else ""))
    for text in render_table(decision.table):
        click.echo("  " + text)
    click.echo(f"Winner: {decision.owner or '(nobody)'}")
    click.echo(f"Why: {decision.reason}")


@click.command("leads")
@click.option("--json", "as_json", is_flag=True, help="JSON list, keys in snake_case.")
def leads_command(as_json: bool) -> None:
    """List leads."""
    store = _store()
    tz = store.config().settings.tz
    leads = store.leads()
    if as_json:
        click.echo(json.dumps([_local_json(lead.to_row(), tz) for lead in leads], indent=1))
        return
    for lead in leads:
        click.echo(f"{lead.lead_id}  {for_people(lead.received_at, tz)}  {lead.status:<9} "
                   f"{lead.assigned_to:<12} {lead.insurance_type:<10} {lead.zip}  {lead.source}")


@click.command("activity")
@click.argument("lead_id")
@click.option("--json", "as_json", is_flag=True, help="JSON list, keys in snake_case.")
def activity_command(lead_id: str, as_json: bool) -> None:
    """The audit trail of one lead; an unknown Lead ID is an error (exit 1), with or without --json."""
    store = _store()
    tz = store.config().settings.tz
    lead_id = _lead(lead_id).lead_id
    events = store.activity(lead_id)
    if as_json:
        click.echo(json.dumps([_local_json(e.to_row(), tz) for e in events], indent=1))
        return
    for e in events:
        click.echo(f"{for_people(e.time, tz, seconds=True)}  {e.event:<16} {e.detail}")


def _check_problems(online: bool = False):
    """What `leadrouter check` reports: the tabs, how the environment reaches people, the AMS
    (signing in to it only when asked `--online`)."""
    from automations.checks import check_delivery
    config = _store().config()
    problems = check_config(config) + check_delivery(
        config, email_configured=bool(current_app.config.get("SMTP_URL")),
        public_url=current_app.config.get("PUBLIC_URL", ""))
    problems += _call_connect_problems(config)
    problems += check_abuse(config, public_url=public_url(services()), captcha=services().captcha is not None,
                            dashboard_token=current_app.config.get("DASHBOARD_TOKEN", ""))
    problems += ams_check_problems(services(), config, online)
    return problems + _unmatched_type_problems(config)


def _startup_check() -> None:
    """serve, worker and demo begin with `check`'s errors: a tab that breaks routing is said at start-up."""
    errors = [p for p in _check_problems() if p.level == "error"]
    for p in errors:
        click.echo(f"ERROR   {p.tab}: {p.message}", err=True)
        log.error("check: %s: %s", p.tab, p.message)
    if errors:
        click.echo(f"{len(errors)} error(s) in the tabs: leads are still taken, but fix these (`leadrouter check` "
                   "lists them again)", err=True)


def _lead(text: str) -> Lead:
    """The lead a command names: L-1013, 1013 or #1013; an unknown one is one sentence and exit 1."""
    from automations.lead_ref import find_lead
    lead = find_lead(_store(), text)
    if lead is None:
        raise click.ClickException(f"no lead {text.strip() or '(blank)'} (see `leadrouter leads` for the Lead IDs)")
    return lead


STATUS_WORDS = {"contacted": "Contacted", "c": "Contacted", "quoted": "Quoted", "q": "Quoted", "bound": "Bound",
                "b": "Bound", "lost": "Lost", "l": "Lost"}


@click.command("status")
@click.argument("lead_ref", metavar="LEAD")
@click.argument("status", metavar="Contacted|Quoted|Bound|Lost")
@click.argument("extra", nargs=-1, metavar="[PREMIUM|REASON]")
def status_command(lead_ref: str, status: str, extra: tuple[str, ...]) -> None:
    """Mark a lead: `status 1013 Contacted`, `Quoted 1450`, `Bound 1200` (premium needed), `Lost went elsewhere`.

    The same as editing the Status cell (or replying C/Q/B/L to the text): stamped, logged on Activity,
    and the speed clock stops for it."""
    from automations.notify.replies import dollars, money
    from automations.speed_clock.status import change_status
    lead = _lead(lead_ref)
    wanted = STATUS_WORDS.get(status.strip().lower())
    if wanted is None:
        raise click.BadParameter(f"{status!r} is not Contacted, Quoted, Bound or Lost", param_hint="STATUS")
    premium, reason = None, ""
    if wanted in ("Quoted", "Bound") and extra:
        premium = money(" ".join(extra).replace(" ", ""))
        if premium is None:
            raise click.BadParameter(f"{' '.join(extra)!r} is not a premium (write it like 1450 or $1,450.50)",
                                     param_hint="PREMIUM")
    elif wanted == "Lost":
        reason = " ".join(extra).strip()
    elif extra:
        raise click.UsageError(f"Contacted takes nothing after it (got {' '.join(extra)!r})")
    if wanted == "Bound" and premium is None and lead.premium is None:
        raise click.UsageError(f"Bound needs the premium: leadrouter status {lead.number} Bound 1200")
    before = lead.status
    lead = change_status(_store(), lead, wanted, services().clock.now(), by="leadrouter status",
                         premium=premium, lost_reason=reason)
    said = f"{before} -> {lead.status}" if before != lead.status else f"already {lead.status}"
    extra_text = (f", premium {dollars(premium)}" if premium is not None else "") + \
        (f", reason: {reason}" if reason else "")
    click.echo(f"{lead.lead_id} {lead.full_name or ''}: {said}{extra_text}".replace("  ", " "))


@click.command("check")
@click.option("--online", is_flag=True, help="Also sign in to the AMS chosen in Settings (credentials).")
def check_command(online: bool = False) -> None:
    """Validate the config tabs; exit 1 when something would break routing."""
    problems = _check_problems(online)
    for p in problems:
        click.echo(f"{p.level.upper():<7} {p.tab}: {p.message}")
    errors = [p for p in problems if p.level == "error"]
    click.echo(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    if errors:
        raise SystemExit(1)


# ---- Dashboard, reports, workbook export/import (issue 8) ---------------------------------
DASHBOARD_CACHE_SECONDS = 15.0  # every open page polls; on Google Sheets each read costs quota


def _dashboard_view():
    """The live figures, computed at most every DASHBOARD_CACHE_SECONDS per process."""
    import time
    from automations.reports.dashboard import dashboard_view
    cache = current_app.extensions.setdefault("leadrouter.dashboard", {})
    ttl = current_app.config.get("DASHBOARD_CACHE_SECONDS", DASHBOARD_CACHE_SECONDS)
    if cache and time.monotonic() - cache["at"] < ttl:
        return cache["view"]
    store = _store()
    view = dashboard_view(store.leads(), store.activity(), store.config(), services().clock.now())
    cache.update(at=time.monotonic(), view=view)
    return view


DASHBOARD_COOKIE = "leadrouter_dashboard"
NONE = "'none'"
DASHBOARD_SESSION_SECONDS = 30 * 24 * 3600  # sign in once a month per browser
SIGN_IN_FAILURES = 5  # wrong tokens per client address ...
SIGN_IN_WINDOW = 900.0  # ... per 15 minutes; then 429 until the window ends


def _token_fingerprint(token: str) -> str:
    """What the cookie carries: changing LEADROUTER_DASHBOARD_TOKEN signs every browser out."""
    import hashlib
    return hashlib.sha256(("dashboard:" + token).encode()).hexdigest()[:32]


def _session_signer():
    from itsdangerous import URLSafeTimedSerializer
    return URLSafeTimedSerializer(secret_key(services()), salt="leadrouter-dashboard")


def _session_ok(expected: str) -> bool:
    """A valid session cookie from the sign-in form (signed; it carries a fingerprint of the token, not the token)."""
    from itsdangerous import BadSignature
    cookie = request.cookies.get(DASHBOARD_COOKIE, "")
    if not cookie:
        return False
    try:
        value = _session_signer().loads(cookie, max_age=DASHBOARD_SESSION_SECONDS)
    except BadSignature:
        return False
    return secrets.compare_digest(str(value), _token_fingerprint(expected))


def _token_ok(presented: str, expected: str) -> bool:
    """Compare; a wrong token counts against the client's address (see _sign_in_throttled)."""
    if presented and secrets.compare_digest(presented.encode(), expected.encode()):
        return True
    services().store.hit(f"dashboard-failure:{_client_ip()}", services().clock.now(), SIGN_IN_WINDOW)
    return False


def _sign_in_throttled() -> int:
    """Seconds to wait when this address has had SIGN_IN_FAILURES wrong tokens in the window; 0 otherwise.
    While it waits even the right token is refused, or throttling would not slow a guesser down."""
    import math
    svc = services()
    now = svc.clock.now()
    hits, ends = svc.store.hit(f"dashboard-failure:{_client_ip()}", now, SIGN_IN_WINDOW, amount=0)
    return max(1, math.ceil((ends - now).total_seconds())) if hits >= SIGN_IN_FAILURES else 0


def _dashboard_refusal(wants_json: bool, error: str = ""):
    """None when signed in (the session cookie, or Authorization: Bearer <token> for scripts; never a
    token in the URL); else 403 (no token configured), 401 (with the sign-in form) or 429 (throttled)."""
    expected = current_app.config.get("DASHBOARD_TOKEN", "")
    status, headers = 401, {"WWW-Authenticate": 'Bearer realm="dashboard"'}
    if not expected:
        message, status, headers = "The dashboard is disabled: set LEADROUTER_DASHBOARD_TOKEN to a long secret.", 403, {}
    elif not error and _session_ok(expected):
        return None
    elif not error and (wait := _sign_in_throttled()):
        message, status = f"Too many wrong tokens from your address; try again in {wait // 60 + 1} minutes.", 429
        headers = {"Retry-After": str(wait)}
    else:
        auth = request.headers.get("Authorization", "")
        if not error and auth.lower().startswith("bearer ") and _token_ok(auth[7:].strip(), expected):
            return None
        message = error or "A manager token is required: sign in with it below."
    body = jsonify(errors={"token": message}) if wants_json else render_template(
        "dashboard.html", agency=_agency_name(), refused=message, view=None, sign_in=status == 401)
    return body, status, headers


@web.get("/dashboard")
def dashboard_page():
    refused = _dashboard_refusal(wants_json=False)
    if refused is not None:
        return refused
    return render_template("dashboard.html", agency=_agency_name(), view=_dashboard_view(), refused="")


@web.post("/dashboard/sign-in")
def dashboard_sign_in():
    """The sign-in form: the token once, then a signed, HttpOnly, SameSite=Strict cookie."""
    from flask import redirect
    expected = current_app.config.get("DASHBOARD_TOKEN", "")
    if expected and not _sign_in_throttled():
        if _token_ok(request.form.get("token", "").strip(), expected):
            response = redirect("/dashboard", code=303)
            response.set_cookie(DASHBOARD_COOKIE, _session_signer().dumps(_token_fingerprint(expected)),
                                max_age=DASHBOARD_SESSION_SECONDS, path="/", httponly=True,
                                samesite="Strict", secure=request.is_secure)
            return response
        return _dashboard_refusal(wants_json=False, error="That token is not right.")
    return _dashboard_refusal(wants_json=False)  # throttled (429) or no token configured (403)


@web.post("/dashboard/sign-out")
def dashboard_sign_out():
    from flask import redirect
    response = redirect("/dashboard", code=303)
    response.delete_cookie(DASHBOARD_COOKIE, path="/")
    return response


@web.get("/dashboard.json")
def dashboard_json():
    refused = _dashboard_refusal(wants_json=True)
    return refused if refused is not None else jsonify(_dashboard_view().as_json())


# ---- security headers on every HTML page (issue 14) ------------------------------------------
@web.after_app_request
def _security_headers(response):
    """No caching, a CSP with a per-request script nonce, no framing (except the form, which
    LEADROUTER_FORM_FRAME_ANCESTORS may let a site embed), no referrer to other sites."""
    if response.mimetype != "text/html":
        return response
    from flask import g
    captcha = services().captcha
    widget = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(captcha.script)) if captcha else ""
    embeddable = request.endpoint in ("web.form_page", "web.post_lead")
    ancestors = (current_app.config.get("FORM_FRAME_ANCESTORS") or os.environ.get("LEADROUTER_FORM_FRAME_ANCESTORS")
                 or "*") if embeddable else "'none'"
    nonce = getattr(g, "csp_nonce", "")
    scripts = " ".join(filter(None, ["'self'", f"'nonce-{nonce}'" if nonce else "", widget]))
    response.headers["Content-Security-Policy"] = "; ".join([
        "default-src 'self'", f"script-src {scripts}", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
        f"connect-src 'self' {widget}".strip(), f"frame-src {widget or NONE}",
        "object-src 'none'", "base-uri 'none'", "form-action 'self'", f"frame-ancestors {ancestors}"])
    if not embeddable:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@web.app_context_processor
def _csp_nonce() -> dict[str, Any]:
    from flask import g

    def nonce() -> str:
        if not getattr(g, "csp_nonce", ""):
            g.csp_nonce = secrets.token_urlsafe(16)
        return g.csp_nonce
    return {"csp_nonce": nonce}


@click.command("report")
@click.argument("kind", type=click.Choice(["sources", "monthly"]))
@click.option("--month", default=None, help="YYYY-MM (default: the current month, agency time zone).")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "xlsx"]), default="md", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="File to write (md/csv print here without it; xlsx needs it).")
def report_command(kind: str, month: str | None, fmt: str, output: str | None) -> None:
    """The lead source report or the monthly summary, as Markdown, CSV or xlsx."""
    from automations.reports import formats
    from automations.reports.monthly import monthly_report, report_month, source_report
    store = _store()
    config = store.config()
    try:
        period = report_month(services().clock.now(), config, month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from None
    if kind == "sources":
        table = source_report(store.leads(), config, period)
        content = {"md": lambda: formats.sources_markdown(table, period, config.settings.agency_name),
                   "csv": lambda: formats.sources_csv(table), "xlsx": lambda: formats.sources_xlsx(table)}[fmt]()
    else:
        report = monthly_report(store.leads(), store.activity(), config, period)
        content = {"md": lambda: formats.monthly_markdown(report), "csv": lambda: formats.monthly_csv(report),
                   "xlsx": lambda: formats.monthly_xlsx(report)}[fmt]()
    if fmt == "xlsx":
        if not output:  # a file appears only where the owner asked for it, never silently in this folder
            raise click.UsageError(f"an xlsx report is a file: add --output "
                                   f"report-{'sources-' if kind == 'sources' else ''}{period}.xlsx (md and csv "
                                   "print here)")
        _output_folder(output)
        with open(output, "wb") as fh:
            fh.write(content)
        click.echo(f"Wrote {output}")
    elif output:
        _output_folder(output)
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        click.echo(f"Wrote {output}")
    else:
        click.echo(content, nl=not content.endswith("\n"))


def _output_folder(path: str) -> None:
    """Refuse, in one sentence, a file whose folder does not exist (before anything is written)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise click.ClickException(f"the folder {folder} does not exist: create it, or write the file elsewhere")


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
def export_command(file: str) -> None:
    """Write every tab, plus the live Dashboard (formulas and charts), to an .xlsx workbook."""
    from sheets_schema.workbook import export_workbook
    _output_folder(file)
    export_workbook(_store(), file)
    click.echo(f"Exported to {file}")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_command(file: str) -> None:
    """Read an .xlsx workbook back: config tabs present replace the store's, Settings merge by name,
    new Lead IDs are added and known ones take Status/Premium/Attempts/Lost Reason/Notes, and
    Activity rows the store lacks are added (so nothing already sent is sent again)."""
    from automations.speed_clock.status import change_status
    from sheets_schema.workbook import WorkbookError, import_workbook
    try:
        summary = import_workbook(_store(), file, services().clock.now(), change_status)
    except WorkbookError as exc:  # not an xlsx, or a damaged one: say so; nothing was changed
        raise click.ClickException(f"{file}: {exc}") from None
    for line in summary.lines():
        click.echo(line)
    problems = _check_problems()  # what the imported tabs now say, as `leadrouter check` would
    for p in problems:
        click.echo(f"{p.level.upper():<7} {p.tab}: {p.message}")
    errors = sum(1 for p in problems if p.level == "error")
    click.echo(f"check: {errors} error(s), {len(problems) - errors} warning(s)")
    if summary.skipped or errors:  # the rest was imported; a script must still see that something was not
        raise click.ClickException(f"{len(summary.skipped)} row(s) or tab(s) skipped and {errors} check error(s): "
                                   "fix them in the workbook and import it again (rows already imported are "
                                   "not added twice)")


# ---- notifications: channels from the environment, Twilio, inbound texts, unsubscribe -----
def notify_settings(env) -> dict[str, str]:
    """The notification settings an operator sets in the environment (docs/notifications.md)."""
    sender = env.get("TWILIO_FROM_NUMBER", "") or env.get("TWILIO_MESSAGING_SERVICE_SID", "")
    return dict(
        TWILIO_ACCOUNT_SID=env.get("TWILIO_ACCOUNT_SID", ""), TWILIO_AUTH_TOKEN=env.get("TWILIO_AUTH_TOKEN", ""),
        TWILIO_FROM=sender, TWILIO_API=env.get("LEADROUTER_TWILIO_API", "https://api.twilio.com"),
        TWILIO_TIMEOUT=env.get("LEADROUTER_TWILIO_TIMEOUT", "10"),
        SMTP_URL=env.get("SMTP_URL", ""), SMTP_FROM=env.get("SMTP_FROM", ""),
        PUBLIC_URL=env.get("LEADROUTER_PUBLIC_URL", ""), SECRET_KEY=env.get("LEADROUTER_SECRET_KEY", ""),
    )


def _seconds(text: Any, default: float) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def build_notifier(svc: Services) -> Notifier:
    """Channels from the environment; a channel left unconfigured goes to the console."""
    from automations.notify.channels import ChannelRouter, Misconfigured
    from automations.notify.channels.smtp import SmtpChannel
    from automations.notify.channels.push import WebhookChannel
    cfg = svc.config
    router = ChannelRouter(default=ConsoleNotifier()).register("push", WebhookChannel())
    twilio = [cfg.get(k, "") for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")]
    if all(twilio):
        router.register("sms", TwilioSms(*twilio, base_url=cfg.get("TWILIO_API", ""),
                                         status_callback=lambda m: _status_callback_url(svc, m),
                                         timeout=_seconds(cfg.get("TWILIO_TIMEOUT"), 10.0)))
    elif any(twilio):  # half set up: hold texts until it is finished rather than print them
        missing = ", ".join(n for n, v in zip(("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"), twilio)
                            if not v)
        router.register("sms", Misconfigured(f"Twilio is not fully configured: {missing} missing"))
    _register_voice(svc, router, twilio)
    if cfg.get("SMTP_URL"):
        try:
            router.register("email", SmtpChannel.from_url(cfg["SMTP_URL"], cfg.get("SMTP_FROM", ""),
                                                          unsubscribe_url=lambda m: unsubscribe_url(svc, m)))
        except ValueError as exc:
            router.register("email", Misconfigured(f"SMTP_URL is not valid: {exc}"))
    log.info("notification channels: %s", router.describe())
    for name, channel in router.channels.items():
        if isinstance(channel, Misconfigured):
            log.error("%s messages will wait: %s", name, channel.reason)
    if isinstance(router.channels.get("email"), SmtpChannel) and not public_url(svc):
        log.error("emails to leads will wait: no public URL for their unsubscribe link "
                  "(set LEADROUTER_PUBLIC_URL or the Settings tab's Public URL)")
    return router


def public_url(svc: Services) -> str:
    """Where the internet reaches us: LEADROUTER_PUBLIC_URL, else the Settings tab's Public URL."""
    url = svc.config.get("PUBLIC_URL", "")
    if not url:
        try:
            url = svc.store.config().settings.value("Public URL")
        except Exception:  # noqa: BLE001 - a link is better than no email
            url = ""
    return url.rstrip("/")


def _status_callback_url(svc: Services, message: Message) -> str:
    base = public_url(svc)
    return f"{base}/webhooks/twilio/status?" + urllib.parse.urlencode({"lead": message.lead_id}) if base else ""


def secret_key(svc: Services) -> str:
    """LEADROUTER_SECRET_KEY, else one generated once and kept in the store (so links survive restarts)."""
    if svc.config.get("SECRET_KEY"):
        return svc.config["SECRET_KEY"]
    store = svc.store
    with store.exclusive():
        key = store.get_state("secret_key")
        if not key:
            key = secrets.token_urlsafe(32)
            store.set_state("secret_key", key)
    svc.config["SECRET_KEY"] = key
    return key


def unsubscribe_url(svc: Services, message: Message) -> str:
    """The lead's one-click link ('' without a public URL: the email then waits, see SmtpChannel)."""
    base = public_url(svc)
    return unsubscribe_link(base, secret_key(svc), message.lead_id) if base else ""


@web.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET asks (mail scanners open every link; they must not unsubscribe anyone); POST acts:
    the page's button, or a mail client's RFC 8058 one-click POST (List-Unsubscribe-Post)."""
    from automations.contact import mask
    from automations.notify.optout import is_opted_out, set_opted_out
    from sheets_schema.models import Activity
    svc = services()
    lead_id = unsubscribed_lead(secret_key(svc), token)
    if lead_id is None:
        return render_template("unsubscribed.html", agency=_agency_name(), ok=False), 404
    lead = svc.store.get_lead(str(lead_id))
    done = lead is None or not lead.email or is_opted_out(svc.store, lead.email.lower())
    if request.method == "GET":
        return render_template("unsubscribed.html", agency=_agency_name(), ok=True, confirm=not done)
    if not done:
        set_opted_out(svc.store, lead.email.lower(), True)
        how = "one-click unsubscribe" if request.form.get("List-Unsubscribe") == "One-Click" else "unsubscribe"
        svc.store.add_activity([Activity(time=svc.clock.now(), lead_id=lead.lead_id, event="email unsubscribed",
                                         detail=f"{mask(lead.email)} confirmed {how}")])
    return render_template("unsubscribed.html", agency=_agency_name(), ok=True, confirm=False)


def _twilio_request_ok() -> bool:
    """X-Twilio-Signature over the URL Twilio called: behind a proxy that is the public URL."""
    svc = services()
    base = public_url(svc)
    url = request.url
    if base:
        query = request.query_string.decode("latin-1")
        url = base + request.path + (f"?{query}" if query else "")
    return signature_valid(svc.config.get("TWILIO_AUTH_TOKEN", ""), url, request.form,
                           request.headers.get("X-Twilio-Signature", ""))


def _twiml(text: str = ""):
    return twiml_reply(text), 200, {"Content-Type": "text/xml; charset=utf-8"}


@web.post("/webhooks/twilio")
def twilio_inbound():
    """A text to our number: a producer's command or a lead's reply. Answered with TwiML."""
    from automations.notify.replies import handle_inbound
    if not _twilio_request_ok():
        return "invalid signature", 403
    svc = services()
    answer = handle_inbound(svc.store, svc.clock, request.form.get("From", ""), request.form.get("Body", ""),
                            request.form.get("MessageSid", ""))
    svc.dispatch(answer.messages)
    return _twiml(answer.text)


@web.post("/webhooks/twilio/status")
def twilio_status():
    """Twilio's delivery report for a text we sent: final outcomes go to the Activity log."""
    from sheets_schema.models import Activity
    if not _twilio_request_ok():
        return "invalid signature", 403
    status = request.form.get("MessageStatus", "")
    sid = request.form.get("MessageSid", "")
    if status in ("delivered", "undelivered", "failed") and sid:
        code = request.form.get("ErrorCode", "")
        services().store.claim(Activity(time=services().clock.now(), lead_id=request.args.get("lead", ""),
                                        event=f"sms {status}", detail=f"id {sid}" + (f", error {code}" if code else ""),
                                        key=f"status/{sid}/{status}"))
    return "", 204


@click.command("outbox")
@click.option("--send", is_flag=True, help="Send what is due now (what the tick does).")
def outbox_command(send: bool) -> None:
    """Messages still owed: deferred by quiet hours, or waiting to be retried."""
    from automations.contact import mask
    from automations.notify.delivery import retry_due
    from automations.notify.outbox import pending
    svc = services()
    if send:
        report = retry_due(svc.store, svc.notifier, svc.clock)
        click.echo(", ".join(f"{n} {k}" for k, n in sorted(report.items())) or "nothing due")
    waiting = pending(svc.store)
    if not waiting:
        click.echo("Nothing waiting: every message has gone out.")
        return
    tz = svc.store.config().settings.tz
    for p in sorted(waiting, key=lambda p: p.due):
        m = p.msg
        when = for_people(p.due, tz)
        how = (f"held for quiet hours, goes at {when}" if p.state == "deferred"
               else f"attempts {p.attempts}, next try {when}" + (f", last error: {p.error}" if p.error else ""))
        click.echo(f"{when}  {p.state:<8} {m.channel:<5} {m.recipient} "
                   f"({mask(m.to) if m.channel != 'push' else 'webhook'})  {m.lead_id} {m.template}  {how}")


COMMANDS = [init_command, serve_command, demo_command, route_command, leads_command, activity_command,
            check_command]
COMMANDS += [report_command, export_command, import_command]
COMMANDS += [outbox_command]
COMMANDS += [status_command]


class RedactingFilter(logging.Filter):
    """Defence in depth: mask any phone number or email that reaches a log line."""

    SECRET_PARAMS = re.compile(r"((?:token|api_key|key)=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):  # our format strings may span lines; the values put in them may not
            record.args = tuple(escape_breaks(a) if isinstance(a, str) else a for a in record.args)
        message = self.SECRET_PARAMS.sub(r"\1***", record.getMessage())  # e.g. /dashboard?token=...
        record.msg, record.args = redact(message), ()
        return True


# ---- call connect (issue 15): Twilio Voice offers and the /voice/... TwiML endpoints ------------
def _safe_connect(svc: Services, lead_id: str) -> None:
    from automations.call_connect.offers import start
    try:
        start(svc.store, svc.notifier, svc.clock, lead_id, policy=svc.config.get("RETRY_POLICY"))
    except Exception:  # noqa: BLE001 - the tick's ladder still runs; the lead is saved and texted
        log.exception("call connect failed for %s", lead_id)


def voice_caller_id(svc: Services) -> str:
    """The agency's Twilio number calls show: TWILIO_VOICE_NUMBER, else TWILIO_FROM_NUMBER (a number, not MG...)."""
    number = svc.config.get("TWILIO_VOICE_NUMBER") or os.environ.get("TWILIO_VOICE_NUMBER", "")
    sender = svc.config.get("TWILIO_FROM", "")
    return number or (sender if sender.startswith("+") else "")


def _register_voice(svc: Services, router, twilio: list[str]) -> None:
    """Twilio Voice when its account and a number are set; else calls go to the console like every
    unconfigured channel (the demo), and `leadrouter check` says so when Call Connect is Y."""
    from automations.notify.channels.twilio_voice import TwilioVoice
    caller_id = voice_caller_id(svc)
    if all(twilio[:2]) and caller_id:
        router.register("voice", TwilioVoice(twilio[0], twilio[1], caller_id, public_url=lambda: public_url(svc),
                                             base_url=svc.config.get("TWILIO_API", ""),
                                             timeout=_seconds(svc.config.get("TWILIO_TIMEOUT"), 10.0)))


def _call_connect_problems(config) -> list:
    from automations.call_connect.checks import check_call_connect
    from automations.notify.channels.twilio_voice import TwilioVoice
    channel_for = getattr(services().notifier, "channel_for", None)
    voice = channel_for("voice") if channel_for else None
    return check_call_connect(config, public_url=current_app.config.get("PUBLIC_URL", ""),
                              voice_configured=isinstance(voice, TwilioVoice))


def _voice_args() -> tuple[str, int] | None:
    lead_id = request.args.get("lead", "").strip()
    try:
        n = int(request.args.get("n", ""))
    except ValueError:
        return None
    return (lead_id, n) if lead_id and n > 0 else None


def _voice(prompt):
    from automations.notify.channels.twilio_voice import voice_twiml
    svc = services()
    xml = voice_twiml(prompt, public_url(svc) or request.host_url, voice_caller_id(svc))
    return xml, 200, {"Content-Type": "text/xml; charset=utf-8"}


def _voice_webhook(view):
    """Twilio's voice webhooks: signed by Twilio (403 otherwise) and naming the offer (?lead=&n=, 400 otherwise)."""
    @functools.wraps(view)
    def checked():
        if not _twilio_request_ok():
            return "invalid signature", 403
        args = _voice_args()
        if args is None:
            return "lead and n are required", 400
        return view(*args)
    return checked


@web.post("/voice/offer")
@_voice_webhook
def voice_offer(lead_id: str, n: int):
    """Twilio fetched the offer call's instructions: the whisper and a <Gather> for 1 or 2."""
    from automations.call_connect.offers import prompt
    svc = services()
    return _voice(prompt(svc.store, svc.clock, lead_id, n, answered_by=request.form.get("AnsweredBy", "")))


@web.post("/voice/answer")
@_voice_webhook
def voice_answer(lead_id: str, n: int):
    """The digit the producer pressed: 1 bridges to the lead (<Dial>), 2 passes."""
    from automations.call_connect.offers import press
    svc = services()
    pressed = press(svc.store, svc.notifier, svc.clock, lead_id, n, request.form.get("Digits", ""),
                    policy=svc.config.get("RETRY_POLICY"))
    svc.dispatch(pressed.messages)
    return _voice(pressed.prompt)


@web.post("/voice/status")
@_voice_webhook
def voice_status(lead_id: str, n: int):
    """Status callbacks of an offer call (leg=offer) or of the bridged call to the lead (leg=lead)."""
    from automations.call_connect.offers import call_status
    svc = services()
    call_status(svc.store, svc.clock, lead_id, n, request.args.get("leg", "offer"), request.form.to_dict())
    return "", 204


# ---- speed clock: tick, worker, and the scheduler inside serve ----------------------------------


def _start_speed_clock(app: Flask):
    from automations.speed_clock.scheduler import SpeedClock
    wired = app.extensions["leadrouter"]
    return SpeedClock(wired.store, wired.notifier, wired.clock, ams=ams_provider(wired)).start()


def _sigterm_as_interrupt() -> None:
    """SIGTERM (a deploy, the platform stopping the dyno) ends `serve` like Ctrl-C: the tick in hand finishes."""
    import signal
    import threading

    def interrupt(*_):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _parse_now(text: str, tz) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("must be an ISO-8601 time, e.g. 2026-11-24T10:05:00-05:00", param_hint="--now")
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@click.command("tick")
@with_appcontext
@click.option("--now", "now_text", default=None, metavar="ISO-8601",
              help="Run as if it were this time (no offset = the agency's time zone).")
def tick_command(now_text: str | None) -> None:
    """One automation pass (status sync, escalation, follow-ups); safe to run again."""
    from automations.clock import FrozenClock
    from automations.speed_clock.tick import run_tick
    store, wired = _store(), services()
    config = store.config()
    clock = FrozenClock(_parse_now(now_text, config.settings.tz)) if now_text else wired.clock
    report = run_tick(store, wired.notifier, clock, config, ams=ams_provider(wired))
    for line in report.done:
        click.echo(line)
    for line in report.errors:
        click.echo(f"ERROR {line}", err=True)
    click.echo(report.summary())


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Run the speed clock (a tick every Settings "Tick Seconds") until SIGTERM or Ctrl-C."""
    import signal
    import threading
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    _startup_check()
    speed_clock = _start_speed_clock(current_app._get_current_object())
    click.echo(f"leadrouter worker: a tick every {speed_clock.interval:g} s (Ctrl-C to stop)")
    stop.wait()
    speed_clock.shutdown(wait=True)  # the tick in hand finishes first
    click.echo("leadrouter worker stopped")


COMMANDS += [tick_command, worker_command]
COMMANDS += [web_command]


# ---- intake: refused posts kept (Rejected), replay, forms, Meta leadgen (issue 12) -------------
def _unmatched_type_problems(config) -> list:
    """Warnings for the insurance types of the last 90 days' leads that no Lines row matches."""
    from datetime import timedelta
    from automations.checks import Problem
    from automations.unmatched_types import unmatched_message, unmatched_types
    since = services().clock.now() - timedelta(days=90)
    return [Problem("warning", "Lines", unmatched_message(answer, n))
            for answer, n in unmatched_types(_store().leads(since), config)]



KEPT_STATUSES = (400, 415, 422)  # a body we could not read or could not use; never 401 (a wrong key) or 413


def _post_context() -> PostContext:
    return PostContext(query=request.args.to_dict(), referer=request.headers.get("Referer", ""),
                       client_ip=request.remote_addr or "")


def _keep_refused(exc: InvalidLead, vendor: str, reading: Reading) -> str:
    """Keep a refused post whole and tell the managers (once a day per form); never fails the answer."""
    from automations.intake import rejected
    if exc.status not in KEPT_STATUSES:
        return ""
    svc = services()
    try:
        now = svc.clock.now()
        rejected_id = rejected.keep(
            svc.store, now, raw=request.get_data(cache=True), content_type=request.content_type or "",
            errors=exc.errors, source=vendor, form=reading.form, query=request.query_string.decode("latin-1"),
            referer=request.headers.get("Referer", ""), client_ip=request.remote_addr or "")
        _remember_form(reading, f"rejected {rejected_id}")
        svc.dispatch(rejected.manager_notice(svc.store.config(), reading.form, rejected_id, exc.errors, now))
    except Exception:  # noqa: BLE001 - the 4xx answer must still go out
        log.exception("could not keep a refused submission")
        return ""
    log.warning("submission refused (%s) and kept as %s", ", ".join(exc.errors), rejected_id)
    return rejected_id


def _remember_form(reading: Reading, outcome: str) -> None:
    from automations.intake.forms import remember_submission
    if not reading.trace:
        return
    try:
        remember_submission(services().store, reading.form, services().clock.now(), outcome, reading.trace)
    except Exception:  # noqa: BLE001 - a report must never cost a lead
        log.exception("could not record the form's last submission")


def _meta_leadgen(payload: Any, vendor: str):
    """Meta's real-time leadgen webhook: fetch each lead from Graph, or keep the post saying what is missing."""
    from automations.intake import rejected
    from automations.intake.meta_leadgen import GraphError, fetch_lead
    svc = services()
    token = os.environ.get("META_PAGE_ACCESS_TOKEN", "")
    graph = os.environ.get("LEADROUTER_META_GRAPH_API", "https://graph.facebook.com")
    results = []
    for item in leadgen_ids(payload):
        try:
            if not token:
                raise GraphError("Meta's leadgen webhook carries only ids: set META_PAGE_ACCESS_TOKEN (a page "
                                 f"access token with leads_retrieval) to fetch lead {item.leadgen_id}")
            lead = fetch_lead(item.leadgen_id, token, graph)
            lead.setdefault("form_id", item.form_id)
            # fetched from Graph with our token: a known source (its 'website' answer is no honeypot)
            outcome = submit_lead(lead, svc.store, svc.clock, source=vendor or "Meta Lead Ads")
        except (GraphError, InvalidLead) as exc:
            errors = exc.errors if isinstance(exc, InvalidLead) else {"meta": str(exc)}
            kept = rejected.keep(svc.store, svc.clock.now(), raw=request.get_data(cache=True),
                                 content_type=request.content_type or "", errors=errors, source=vendor,
                                 form=item.form_id or "Meta lead form", client_ip=request.remote_addr or "")
            results.append({"leadgen_id": item.leadgen_id, "rejected_id": kept, "errors": errors})
            continue
        svc.dispatch(outcome.messages)
        results.append({"leadgen_id": item.leadgen_id, "lead_id": outcome.lead.lead_id})
    return jsonify(leads=results), 200


@web.get("/leads")
def meta_verify():
    """Meta's webhook subscription check: echo hub.challenge when hub.verify_token is META_VERIFY_TOKEN."""
    expected = os.environ.get("META_VERIFY_TOKEN", "")
    token = request.args.get("hub.verify_token", "")
    if expected and request.args.get("hub.mode") == "subscribe" and \
            secrets.compare_digest(token.encode(), expected.encode()):
        return request.args.get("hub.challenge", ""), 200, {"Content-Type": "text/plain"}
    return jsonify(errors={"method": "POST leads here; GET answers only Meta's subscription check"}), 405


@click.command("rejected")
@click.option("--json", "as_json", is_flag=True, help="JSON list, keys in snake_case.")
def rejected_command(as_json: bool) -> None:
    """Submissions refused at intake, kept whole (replay one with `leadrouter replay R-1`)."""
    store = _store()
    tz = store.config().settings.tz
    rows = store.rejected()
    if as_json:
        keys = ("rejected_id", "received_at", "source", "form", "errors", "replayed_as", "content_type")
        click.echo(json.dumps([_local_json({k: r.to_row()[k] for k in keys}, tz) for r in rows], indent=1))
        return
    for r in rows:
        done = f"  -> {r.replayed_as}" if r.replayed_as else ""
        click.echo(f"{r.rejected_id}  {r.received_at.astimezone(tz):%Y-%m-%d %H:%M}  {r.form or '(no form)'}  "
                   f"{r.source or 'public'}  {r.errors}{done}")
    if not rows:
        click.echo("no refused submissions kept")


@click.command("replay")
@click.argument("rejected_id")
def replay_command(rejected_id: str) -> None:
    """Run intake again on a kept submission (after fixing Form Fields or an alias); exactly once."""
    from automations.intake.rejected import body_bytes
    svc = services()
    store = svc.store
    row = store.get_rejected(rejected_id)
    if row is None:
        raise click.ClickException(f"no kept submission {rejected_id} (see `leadrouter rejected`)")
    with store.exclusive():
        row = store.get_rejected(row.rejected_id)
        if row.replayed_as:
            click.echo(f"{row.replayed_as} (replayed before: {row.rejected_id} already became this lead)")
            return
        headers = {"Referer": row.referer} if row.referer else {}
        reading = Reading()
        app = current_app._get_current_object()
        with app.test_request_context("/leads", method="POST", data=body_bytes(row), content_type=row.content_type,
                                      query_string=row.query, headers=headers,
                                      environ_base={"REMOTE_ADDR": row.client_ip or "127.0.0.1"}):
            try:
                outcome = submit_lead(_payload(), store, svc.clock, source=row.source, context=_post_context(),
                                      reading=reading)
            except (InvalidLead, Honeypot) as exc:
                errors = getattr(exc, "errors", {"website": "honeypot"})
                raise click.ClickException(f"{row.rejected_id} is still refused: "
                                           + "; ".join(f"{k}: {v}" for k, v in errors.items())) from None
        store.mark_replayed(row.rejected_id, outcome.lead.lead_id)
    svc.dispatch(outcome.messages)
    _remember_form(reading, outcome.lead.lead_id)
    click.echo(f"{outcome.lead.lead_id}" + (" (a duplicate of this existing lead)" if outcome.duplicate else
                                            f" assigned to {outcome.lead.assigned_to or 'nobody'}"))


@click.command("forms")
@click.option("--json", "as_json", is_flag=True, help="JSON list: form, last_at, outcome, keys [[key, field]].")
def forms_command(as_json: bool) -> None:
    """Per form, its last submission's keys and where each went (fix Form Fields without reading JSON)."""
    from automations.intake.forms import forms_seen
    store = _store()
    tz = store.config().settings.tz
    seen = forms_seen(store)
    if as_json:
        click.echo(json.dumps([{"form": f.form, "last_at": f.last_at.astimezone(tz).isoformat(), "outcome": f.outcome,
                                "keys": [{"key": k, "field": w} for k, w in f.keys]} for f in seen], indent=1))
        return
    for f in seen:
        click.echo(f"{f.form}  last {f.last_at.astimezone(tz):%Y-%m-%d %H:%M}  ({f.outcome})")
        for key, where in f.keys:
            click.echo(f"  {key} → {where}")
    if not seen:
        click.echo("no submissions yet")


COMMANDS += [rejected_command, replay_command, forms_command]


class AgencyTimeFormatter(logging.Formatter):
    """Log lines carry the agency's time with its offset (Settings -> Time Zone, once a store is open),
    the same clock as every other time a person reads; machine-local time until then."""

    tz = None

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        from datetime import timezone
        moment = datetime.fromtimestamp(record.created, tz=timezone.utc)
        return for_people(moment, self.tz or moment.astimezone().tzinfo, seconds=True)


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


# ---- issue 19: warm before the first post ----------------------------------------------------
# modules a form post imports inside this file's functions (kept off the CLI's start-up); the test
# tests/test_warm_up.py fails when a post after warm_up still imports one that is not listed here
POST_PATH_MODULES = ("automations.ams.factory", "automations.ams.lookup", "automations.call_connect.offers",
                     "encodings.unicode_escape")  # (the last: one_line escapes line breaks in log lines)


def warm_up(app: Flask) -> None:
    """Load what the first post would otherwise load on its request: its modules, the ZIP and phone
    data, and the store's warm-up (its SQL compiled; Google Sheets: the sheet read, the OAuth token)."""
    from automations.contact import lookup_zip, normalize_phone
    for module in POST_PATH_MODULES:
        importlib.import_module(module)
    lookup_zip("10001")
    normalize_phone("(201) 555-0100")  # phonenumbers compiles its patterns on first use
    svc = app.extensions["leadrouter"]
    svc.warm_up()
    warm = getattr(svc.store, "warm_up", None)
    if callable(warm):
        warm()
    # Everything loaded so far (libraries, ZIP and phone data, the app) lives as long as the process:
    # moved out of the garbage collector's sight, a full collection no longer walks it, so it pauses a
    # request for a few milliseconds instead of 70-90 (benchmarks/sheets.py: form p99)
    gc.collect()
    gc.freeze()


# ---- the AMS: records, notes, existing clients (issue 16, automations/ams/, docs/ams.md) ---------------
def ams_env(svc: Services) -> dict[str, str]:
    """The AMS's secrets and endpoints: the environment, with AMS_ENV from the app's config on top (tests)."""
    return {**os.environ, **svc.config.get("AMS_ENV", {})}


def ams_provider(svc: Services):
    """Settings -> AMS as an adapter, built once per distinct setting (kept on the app)."""
    from automations.ams.factory import AmsProvider
    provider = svc.config.get("AMS_PROVIDER")
    if provider is None:
        provider = svc.config["AMS_PROVIDER"] = AmsProvider(ams_env(svc))
    return provider


def ams_client_lookup(svc: Services):
    """The intake's existing-client question to the AMS, or None when no AMS is chosen."""
    from automations.ams.lookup import ClientLookup
    try:
        config = svc.store.config()
        adapter = ams_provider(svc)(config)
    except Exception:  # noqa: BLE001 - the AMS never blocks a lead
        return None
    settings = ams_provider(svc).settings(config)
    if adapter is None or settings.kind not in ("epic", "ams360"):  # a file or a webhook answers no questions
        return None
    budget = settings.lookup_seconds
    lookup = svc.config.get("AMS_LOOKUP")
    if lookup is None:
        lookup = svc.config["AMS_LOOKUP"] = ClientLookup(svc.clock)
    return lambda form: lookup.find(adapter, email=form.email, phone=form.phone, last_name=form.last_name,
                                    budget=budget)


def dispatch_ams(svc: Services, outcome: Outcome) -> None:
    """A new lead's AMS record is tried right away, off the request thread (inline in tests); the tick
    retries whatever this does not finish."""
    if outcome.duplicate:
        return
    try:
        adapter = ams_provider(svc)(svc.store.config())
    except Exception:  # noqa: BLE001 - the tick will do it
        log.exception("AMS not available for an immediate try")
        return
    if adapter is None:
        return
    job = (_safe_drain_ams, svc.store, adapter, svc.clock, svc.notifier, outcome.lead.lead_id)
    if svc.config.get("SEND_INLINE"):
        job[0](*job[1:])
        return
    pool = svc.config.get("AMS_POOL")
    if pool is None:
        pool = svc.config["AMS_POOL"] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ams")
    pool.submit(*job)


def _safe_drain_ams(store, adapter, clock, notifier, lead_id: str) -> None:
    from automations.ams.queue import drain
    try:
        drain(store, adapter, clock, notifier, lead_id=lead_id)
    except Exception:  # noqa: BLE001 - queued: the tick retries
        log.exception("AMS try for %s failed; the tick retries", lead_id)


def ams_check_problems(svc: Services, config, online: bool) -> list:
    from automations.ams.checks import ams_online, ams_problems
    from automations.checks import Problem
    env = ams_env(svc)
    problems = [Problem(level, "Settings", message) for level, message in ams_problems(config, env)]
    if online:
        level, message = ams_online(config, env)
        if level == "ok":
            click.echo(f"AMS: {message}")
        else:
            problems.append(Problem("error", "Settings", f"AMS sign-in failed: {message}"))
    return problems


@click.group("ams")
def ams_group() -> None:
    """The agency management system: export for HawkSoft, see what is queued."""


@ams_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["hawksoft"]), default="hawksoft", show_default=True)
@click.option("--since", default=None, metavar="DATE", help="Leads received on or after this date (YYYY-MM-DD).")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="File to write (default: stdout).")
@with_appcontext
def ams_export_command(fmt: str, since: str | None, output: str | None) -> None:
    """Leads as the CSV HawkSoft's client import reads."""
    from sheets_schema import cells
    from automations.ams.hawksoft import export_csv
    store = _store()
    start = None
    if since:
        day = cells.parse_date(since)
        if day is None:
            raise click.BadParameter(f"{since!r} is not a date (YYYY-MM-DD)", param_hint="--since")
        start = datetime.combine(day, datetime.min.time(), tzinfo=store.config().settings.tz)
    text = export_csv(store.leads(start))
    if output:
        with open(output, "w", newline="", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"{max(text.count(chr(10)) - 1, 0)} lead(s) written to {output}")
    else:
        click.echo(text, nl=False)


@ams_group.command("queue")
@with_appcontext
def ams_queue_command() -> None:
    """AMS work still owed (records and notes waiting for the AMS)."""
    from automations.ams.queue import pending
    jobs = pending(_store())
    for job in jobs:
        click.echo(f"{job.due.isoformat(timespec='minutes')}  {job.state:<8} {job.lead_id} {job.event}  "
                   f"attempts {job.attempts}" + (f"  last error: {job.error}" if job.error else ""))
    click.echo(f"{len(jobs)} waiting")


@click.group("clients")
def clients_group() -> None:
    """The Clients tab (existing clients and their CSR)."""


@clients_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["epic", "ams360", "hawksoft", "csv"]), default="csv",
              show_default=True, help="Which AMS made the export.")
@with_appcontext
def clients_import_command(file: str, fmt: str) -> None:
    """Import an AMS client export (CSV) into the Clients tab; safe to run again."""
    from automations.ams.clients_import import merge_clients, read_export
    with open(file, encoding="utf-8-sig", errors="replace", newline="") as f:
        incoming = read_export(f.read(), fmt)
    store = _store()
    with store.exclusive():
        rows, result = merge_clients(store.read_rows("Clients"), incoming)
        if result.added or result.updated:
            store.replace_rows("Clients", rows)
    click.echo(f"Clients: {result.summary()}")


COMMANDS += [ams_group, clients_group]


def _logging() -> None:
    """Masked logging for every process: the CLI, and the web process gunicorn runs (create_app).

    Idempotent. Without handlers (gunicorn configures only its own loggers) our format goes to
    stderr; every handler, ours or the host's, gets the RedactingFilter once.
    """
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format=LOG_FORMAT)
        for handler in root.handlers:  # the one basicConfig made: ours to format
            handler.setFormatter(AgencyTimeFormatter(LOG_FORMAT))
    handlers = [h for name in ("", "gunicorn.error", "gunicorn.access") for h in logging.getLogger(name).handlers]
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


class SentencesNotTracebacks(click.Group):
    """Every command ends with one clear sentence and a non-zero exit, never a stack trace
    (LOG_LEVEL=DEBUG logs the trace for whoever debugs it)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except StoreNotReady as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:  # a folder that does not exist, a disk that is full or read-only
            where = f": {exc.filename}" if exc.filename else ""
            raise click.ClickException(f"{exc.strerror or exc}{where}") from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence for a person at a terminal
            log.debug("command failed", exc_info=True)
            raise click.ClickException(f"{exc} ({type(exc).__name__}; LOG_LEVEL=DEBUG shows the details)") from None


@click.group(cls=SentencesNotTracebacks,
             help="leadrouter: every lead lands with exactly one owner within a second.\n\n"
                  "The store is LEADROUTER_STORE (default sqlite:///leads.db).")
@click.pass_context
def cli(ctx: click.Context) -> None:
    app = create_app()
    ctx.with_resource(app.app_context())
    ctx.call_on_close(app.extensions["leadrouter"].close)


for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    _logging()
    cli.main(prog_name="leadrouter")


if __name__ == "__main__":
    main()

