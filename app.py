"""leadrouter's composition root: the Flask app factory, its HTTP endpoints and the CLI.

Everything with I/O is chosen here from the environment (12-factor) and handed to the
domain (automations/) as ports: the store (sheets_schema.stores.open_store), the
notifier and the clock. Nothing connects at import time.
"""
from __future__ import annotations

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
from werkzeug.exceptions import HTTPException

from automations.checks import check_config
from automations.clock import Clock, SystemClock
from automations.contact import redact
from automations.notify.channels.console import ConsoleNotifier
from automations.notify.channels.twilio import TwilioSms, signature_valid, twiml_reply
from automations.errors import InvalidLead, StoreUnavailable
from automations.intake.payload import unbracket
from automations.intake.validation import Honeypot
from automations.intake.submission import Outcome, submit_lead
from automations.notify.delivery import deliver_all
from automations.notify.unsubscribe import unsubscribe_link, unsubscribed_lead
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
        self._notifier = notifier
        self.clock: Clock = clock or SystemClock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def notifier(self) -> Notifier:
        """The given notifier, else channels from the environment (console when none is set)."""
        if self._notifier is None:
            self._notifier = build_notifier(self)
        return self._notifier

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
            deliver_all(messages, self.store, self.notifier, self.clock, policy=self.config.get("RETRY_POLICY"))
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="send")
        self._pool.submit(_safe_deliver, messages, self.store, self.notifier, self.clock,
                          self.config.get("RETRY_POLICY"))

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
        outcome = submit_lead(payload, services().store, services().clock, source=vendor,
                              client_lookup=ams_client_lookup(services()))
    except Honeypot as exc:  # masked contact details: enough to find a real person a browser's autofill dropped
        log.warning("honeypot field 'website' filled on a public post (%s); nothing stored", exc.who or "no contact")
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
    dispatch_ams(services(), outcome)
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
        pairs = list(request.form.items(multi=True))
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
    """Run the web app and the speed clock (scheduler) in one process."""
    _serve(current_app._get_current_object(), host, port)


def _serve(app: Flask, host: str, port: int) -> None:
    from werkzeug.serving import make_server
    server = make_server(host, port, app, threaded=True)
    click.echo(f"leadrouter listening on http://{host}:{server.port}/  (form: /, posts: /leads)")
    speed_clock = _start_speed_clock(app)  # here, not in create_app: gunicorn's web workers never tick
    _sigterm_as_interrupt()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        speed_clock.shutdown(wait=True)
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
        click.echo(f"{lead.lead_id}  {lead.received_at.astimezone(tz):%Y-%m-%d %H:%M}  {lead.status:<9} "
                   f"{lead.assigned_to:<12} {lead.insurance_type:<10} {lead.zip}  {lead.source}")


@click.command("activity")
@click.argument("lead_id")
@click.option("--json", "as_json", is_flag=True, help="JSON list, keys in snake_case.")
def activity_command(lead_id: str, as_json: bool) -> None:
    """The audit trail of one lead; an unknown Lead ID is an error (exit 1), with or without --json."""
    store = _store()
    tz = store.config().settings.tz
    lead_id = lead_id.strip()
    events = store.activity(lead_id) if lead_id else []  # activity("") would be every lead's
    if not events and (not lead_id or store.get_lead(lead_id) is None):
        raise click.ClickException(f"no lead {lead_id} (see `leadrouter leads` for the Lead IDs)")
    if as_json:
        click.echo(json.dumps([_local_json(e.to_row(), tz) for e in events], indent=1))
        return
    for e in events:
        click.echo(f"{e.time.astimezone(tz):%Y-%m-%d %H:%M:%S}  {e.event:<16} {e.detail}")


@click.command("check")
@click.option("--online", is_flag=True, help="Also sign in to the AMS chosen in Settings (credentials).")
def check_command(online: bool = False) -> None:
    """Validate the config tabs; exit 1 when something would break routing."""
    from automations.checks import check_delivery
    config = _store().config()
    problems = check_config(config) + check_delivery(
        config, email_configured=bool(current_app.config.get("SMTP_URL")),
        public_url=current_app.config.get("PUBLIC_URL", ""))
    problems += ams_check_problems(services(), config, online)
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


def _dashboard_refusal(wants_json: bool):
    """None when the manager token is right; else a 403 (no token configured) or 401 response."""
    expected = current_app.config.get("DASHBOARD_TOKEN", "")
    if not expected:
        message = "The dashboard is disabled: set LEADROUTER_DASHBOARD_TOKEN to a secret and open /dashboard?token=..."
        status = 403
    else:
        auth = request.headers.get("Authorization", "")
        presented = request.args.get("token", "") or (auth[7:].strip() if auth.lower().startswith("bearer ") else "")
        if presented and secrets.compare_digest(presented.encode(), expected.encode()):
            return None
        message, status = "A manager token is required: /dashboard?token=... or Authorization: Bearer ...", 401
    body = jsonify(errors={"token": message}) if wants_json else render_template(
        "dashboard.html", agency=_agency_name(), refused=message, view=None, token="")
    headers = {"WWW-Authenticate": 'Bearer realm="dashboard"'} if status == 401 else {}
    return body, status, headers


@web.get("/dashboard")
def dashboard_page():
    refused = _dashboard_refusal(wants_json=False)
    if refused is not None:
        return refused
    return render_template("dashboard.html", agency=_agency_name(), view=_dashboard_view(), refused="",
                           token=request.args.get("token", ""))


@web.get("/dashboard.json")
def dashboard_json():
    refused = _dashboard_refusal(wants_json=True)
    return refused if refused is not None else jsonify(_dashboard_view().as_json())


@click.command("report")
@click.argument("kind", type=click.Choice(["sources", "monthly"]))
@click.option("--month", default=None, help="YYYY-MM (default: the current month, agency time zone).")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "xlsx"]), default="md", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="File to write (md/csv default to stdout; xlsx defaults to report[-sources]-YYYY-MM.xlsx).")
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
        output = output or f"report-{'sources-' if kind == 'sources' else ''}{period}.xlsx"
        with open(output, "wb") as fh:
            fh.write(content)
        click.echo(f"Wrote {output}")
    elif output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        click.echo(f"Wrote {output}")
    else:
        click.echo(content, nl=not content.endswith("\n"))


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
def export_command(file: str) -> None:
    """Write every tab, plus the live Dashboard (formulas and charts), to an .xlsx workbook."""
    from sheets_schema.workbook import export_workbook
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
            url = svc.store.config().settings.get("Public URL")
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
    for p in pending(svc.store):
        m = p.msg
        click.echo(f"{p.due.isoformat(timespec='minutes')}  {p.state:<8} {m.channel:<5} {m.recipient} "
                   f"({mask(m.to) if m.channel != 'push' else 'webhook'})  {m.lead_id} {m.template}  "
                   f"attempts {p.attempts}" + (f"  last error: {p.error}" if p.error else ""))


COMMANDS = [init_command, serve_command, demo_command, route_command, leads_command, activity_command,
            check_command]
COMMANDS += [report_command, export_command, import_command]
COMMANDS += [outbox_command]


class RedactingFilter(logging.Filter):
    """Defence in depth: mask any phone number or email that reaches a log line."""

    SECRET_PARAMS = re.compile(r"((?:token|api_key|key)=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.SECRET_PARAMS.sub(r"\1***", record.getMessage())  # e.g. /dashboard?token=...
        record.msg, record.args = redact(message), ()
        return True


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
    speed_clock = _start_speed_clock(current_app._get_current_object())
    click.echo(f"leadrouter worker: a tick every {speed_clock.interval:g} s (Ctrl-C to stop)")
    stop.wait()
    speed_clock.shutdown(wait=True)  # the tick in hand finishes first
    click.echo("leadrouter worker stopped")


COMMANDS += [tick_command, worker_command]


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
        logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers = [h for name in ("", "gunicorn.error", "gunicorn.access") for h in logging.getLogger(name).handlers]
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


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

