"""leadrouter's composition root: the Flask app factory, its HTTP endpoints and the CLI.

Everything with I/O is chosen here from the environment (12-factor) and handed to the
domain (automations/) as ports: the store (sheets_schema.stores.open_store), the
notifier and the clock. Nothing connects at import time.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import click
from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from automations.checks import check_config
from automations.clock import Clock, SystemClock
from automations.console_notifier import ConsoleNotifier
from automations.errors import InvalidLead, StoreUnavailable
from automations.form_payload import unbracket
from automations.intake import Honeypot
from automations.leads import Outcome, submit_lead
from automations.notify import deliver_all
from automations.ports import Message, Notifier, Store
from automations.routing import decide
from automations.routing.round_robin import POINTER
from sheets_schema.demo import demo_rows
from sheets_schema.models import Lead
from sheets_schema.stores import DEFAULT_STORE, open_store
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
        self.notifier: Notifier = notifier or ConsoleNotifier()
        self.clock: Clock = clock or SystemClock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.config["STORE_URL"])
        return self._store

    def dispatch(self, messages: list[Message]) -> None:
        """Send minute-0 messages right away: inline (tests) or on a small pool (serve)."""
        if not messages:
            return
        if self.config.get("SEND_INLINE"):
            deliver_all(messages, self.store, self.notifier, self.clock)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="send")
        self._pool.submit(_safe_deliver, messages, self.store, self.notifier, self.clock)

    def close(self) -> None:
        self.drain()
        if self._store is not None:
            self._store.close()

    def drain(self) -> None:
        """Wait for background sends (shutdown, tests)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _safe_deliver(messages, store, notifier, clock) -> None:
    try:
        deliver_all(messages, store, notifier, clock)
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
    if config:
        app.config.update(config)
    app.extensions["leadrouter"] = Services(app, store, notifier, clock)
    app.register_blueprint(web)
    for command in COMMANDS:
        app.cli.add_command(command)
    return app


# ---- HTTP --------------------------------------------------------------------------------
web = Blueprint("web", __name__)


@web.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if request.path.startswith("/leads") or request.is_json:
        return jsonify(errors={"body": exc.description}), exc.code
    return exc


@web.get("/healthz")
def healthz():
    try:
        services().store.get_state(POINTER)
    except Exception as exc:  # noqa: BLE001 - any store failure means unhealthy
        return jsonify(status="unavailable", error=type(exc).__name__), 503
    return jsonify(status="ok")


@web.get("/")
def form_page():
    return render_template("form.html", agency=_agency_name(), errors={}, values={})


def _agency_name() -> str:
    try:
        return services().store.config().settings.agency_name
    except Exception:  # noqa: BLE001 - the form must render even if the store is down
        return "our agency"


@web.post("/leads")
def post_lead():
    wants_html = request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"
    try:
        vendor = _vendor()
        payload = _payload()
        outcome = submit_lead(payload, services().store, services().clock, source=vendor)
    except Honeypot:
        log.info("honeypot field filled; submission dropped")
        return (render_template("thanks.html", agency=_agency_name(), lead=None) if wants_html
                else (jsonify(status="received"), 200))
    except InvalidLead as exc:
        if wants_html and exc.status == 422:
            values = request.form.to_dict() if request.mimetype in FORM_TYPES else {}
            return render_template("form.html", agency=_agency_name(), errors=exc.errors, values=values), 422
        return jsonify(errors=exc.errors), exc.status
    except StoreUnavailable:
        log.warning("store unavailable and no local copy to route from; post refused with 503")
        return jsonify(errors={"store": "temporarily unavailable, please retry"}), 503
    services().dispatch(outcome.messages)
    status = 200 if outcome.duplicate else 202 if services().store.queued(outcome.lead.lead_id) else 201
    if wants_html:
        return render_template("thanks.html", agency=_agency_name(), lead=outcome.lead), status
    return jsonify(_answer(outcome)), status


def _answer(outcome: Outcome) -> dict[str, Any]:
    body = {"lead_id": outcome.lead.lead_id, "assigned_to": outcome.lead.assigned_to,
            "routing_reason": outcome.lead.routing_reason, "status": outcome.lead.status}
    if outcome.duplicate:
        body["duplicate"] = True
    return body


def _vendor() -> str:
    """A vendor's API key names its source; a wrong key is refused, no key is a public post."""
    presented = request.headers.get("X-API-Key") or request.args.get("api_key", "")
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
        text = _utf8(request.get_data(cache=True))
        try:
            pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=500)
        except UnicodeDecodeError:
            raise InvalidLead({"body": "not valid UTF-8"}, status=400) from None
        except ValueError as exc:
            raise InvalidLead({"body": str(exc)}, status=400) from None
        return unbracket(pairs)
    if mimetype == "multipart/form-data":
        pairs = list(request.form.items(multi=True))
        bad = next((k for k, v in pairs if "\ufffd" in v or "\ufffd" in k), None)
        if bad is not None:
            raise InvalidLead({bad: "not valid UTF-8"}, status=400)
        return unbracket(pairs)
    if mimetype in JSON_TYPES or mimetype.endswith("+json"):
        text = _utf8(request.get_data(cache=True))
        try:
            return json.loads(text)
        except RecursionError:
            raise InvalidLead({"body": "JSON nested too deeply"}, status=400) from None
        except ValueError as exc:
            raise InvalidLead({"body": f"not valid JSON ({exc.msg} at line {exc.lineno})"}, status=400) from None
    raise InvalidLead({"content_type": f"unsupported content type {mimetype or '(none)'}; send JSON, "
                                      "application/x-www-form-urlencoded or multipart/form-data"}, status=415)


def _utf8(raw: bytes) -> str:
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


@click.command("serve")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int, show_default="8000")
def serve_command(host: str, port: int) -> None:
    """Run the web app (and, once available, the scheduler) in one process."""
    _serve(current_app._get_current_object(), host, port)


def _serve(app: Flask, host: str, port: int) -> None:
    from werkzeug.serving import make_server
    server = make_server(host, port, app, threaded=True)
    click.echo(f"leadrouter listening on http://{host}:{server.port}/  (form: /, posts: /leads)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["leadrouter"].drain()


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int, show_default="8000")
def demo_command(host: str, port: int) -> None:
    """Load the demo agency into the embedded store (unless it already has producers), then serve."""
    store = _store()
    store.init()
    if not store.read_rows("Producers"):
        for tab, rows in demo_rows().items():
            store.replace_rows(tab, rows)
        click.echo("Loaded the demo agency.")
    _serve(current_app._get_current_object(), host, port)


@click.command("route")
@click.option("--zip", "zip_code", required=True, help="The lead's ZIP code.")
@click.option("--type", "insurance_type", required=True, help="Insurance type, e.g. Auto, BOP.")
@click.option("--source", default="", help="Lead source (name or alias).")
def route_command(zip_code: str, insurance_type: str, source: str) -> None:
    """Dry run: who would get a lead like this, and why. Nothing is stored."""
    from automations.contact import lookup_zip
    from automations.sources import attribute
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
    click.echo(f"Model: {decision.model}")
    for row in decision.table:
        click.echo("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
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
        click.echo(f"{lead.lead_id}  {lead.received_at.astimezone(tz):%Y-%m-%d %H:%M}  {lead.status:<9} "
                   f"{lead.assigned_to:<12} {lead.insurance_type:<10} {lead.zip}  {lead.source}")


@click.command("activity")
@click.argument("lead_id")
@click.option("--json", "as_json", is_flag=True, help="JSON list, keys in snake_case.")
def activity_command(lead_id: str, as_json: bool) -> None:
    """The audit trail of one lead."""
    store = _store()
    tz = store.config().settings.tz
    events = store.activity(lead_id)
    if as_json:
        click.echo(json.dumps([_local_json(e.to_row(), tz) for e in events], indent=1))
        return
    for e in events:
        click.echo(f"{e.time.astimezone(tz):%Y-%m-%d %H:%M:%S}  {e.event:<16} {e.detail}")


@click.command("check")
def check_command() -> None:
    """Validate the config tabs; exit 1 when something would break routing."""
    problems = check_config(_store().config())
    for p in problems:
        click.echo(f"{p.level.upper():<7} {p.tab}: {p.message}")
    errors = [p for p in problems if p.level == "error"]
    click.echo(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    if errors:
        raise SystemExit(1)


COMMANDS = [init_command, serve_command, demo_command, route_command, leads_command, activity_command,
            check_command]


def _logging() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group(help="leadrouter: every lead lands with exactly one owner within a second.\n\n"
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
