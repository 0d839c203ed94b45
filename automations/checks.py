"""`leadrouter check`: what in the config tabs would break or surprise routing.

Pure: takes an AgencyConfig (and the day to judge Out Until against), returns problems
with the tab they are on. Errors stop routing from doing what the owner meant (exit 1);
warnings are worth a look.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable
from urllib.parse import urlsplit

from automations.config import AgencyConfig
from automations.contact import normalize_phone
from automations.routing.lines import covers
from automations.routing.territory import ROTATION_WORDS, zip5, zip_range
from automations.routing.weights import FACTORS, factor_key, parse_weights
from automations.notify.consent import read_needs_consent
from automations.notify.quiet_hours import quiet_hours_problems
from automations.notify.templates import template_problems

__all__ = ["FACTORS", "Problem", "check_config", "check_delivery"]


@dataclass(frozen=True)
class Problem:
    level: str  # error | warning
    tab: str
    message: str


Add = Callable[[str, str, str], None]


def check_config(config: AgencyConfig, today: date | None = None) -> list[Problem]:
    problems: list[Problem] = []
    add: Add = lambda level, tab, msg: problems.append(Problem(level, tab, msg))  # noqa: E731
    today = today or datetime.now(config.settings.tz).date()
    _producers(config, add)
    _settings(config, add)
    _territories(config, today, add)
    _weights(config, add)
    _lines(config, add)
    _form_fields(config, add)
    for c in config.clients:
        if c.csr.strip() and config.producer(c.csr) is None:
            add("error", "Clients", f"{c.name or c.email or c.phone}: CSR {_unknown(c.csr, config)}")
    _notifications(config, add)
    _spreadsheet(config, add)
    return problems


def _notifications(config: AgencyConfig, add: Add) -> None:
    """The Templates tab and Quiet Hours: messages that would go out wrong, or not at all."""
    from sheets_schema.demo import TEMPLATES  # the keys the service sends
    known = {t["key"] for t in TEMPLATES}
    for t in config.templates:
        for level, message in template_problems(t, known):
            add(level, "Templates", message)
    for level, message in quiet_hours_problems(config.settings):
        add(level, "Settings", message)


def check_delivery(config: AgencyConfig, *, email_configured: bool, public_url: str) -> list[Problem]:
    """What the environment (not the tabs) gets wrong about reaching people; `public_url` is
    LEADROUTER_PUBLIC_URL ('' when unset)."""
    problems = []
    url = public_url.strip() or config.settings.value("Public URL")  # an unreadable one: Settings.problems
    if email_configured and not url:
        problems.append(Problem("error", "Settings", "no Public URL (set LEADROUTER_PUBLIC_URL or the Settings "
                                                     "tab's Public URL): emails to leads wait, because their "
                                                     "unsubscribe link would lead nowhere"))
    elif url and not url.lower().startswith(("https://", "http://")):
        problems.append(Problem("error", "Settings", f"Public URL {url!r} is not an http(s) address: "
                                                     "unsubscribe links and Twilio signatures need one"))
    elif url and urlsplit(url).hostname in ("localhost", "127.0.0.1", "::1", "0.0.0.0"):
        problems.append(Problem("warning", "Settings", f"Public URL {url} is this machine: unsubscribe links "
                                                       "in emails to leads will not open for them"))
    return problems


def _unknown(name: str, config: AgencyConfig) -> str:
    """"'Sara M.' matches no producer (did you mean Sarah M.?)"."""
    close = difflib.get_close_matches(name.strip(), [p.name for p in config.producers], n=1, cutoff=0.6)
    return f"{name.strip()!r} matches no producer" + (f" (did you mean {close[0]}?)" if close else "")


def _producers(config: AgencyConfig, add: Add) -> None:
    producers = [p for p in config.producers if p.role == "Producer"]
    if not any(p.is_active for p in producers):
        add("error", "Producers", "no active producer: every lead would go to the manager")
    if not config.managers:
        add("warning", "Producers", "no Manager: escalation alerts have nobody to go to")
    elif not any(m.is_active for m in config.managers):
        add("warning", "Producers", "every Manager is inactive: escalation alerts have nobody to go to, and a lead "
                                    "nobody can take goes to an inactive manager")
    seen: set[str] = set()
    known_lines = [l.line for l in config.lines if l.line.strip()]
    for p in config.producers:
        key = p.name.strip().lower()
        if key in seen:
            add("error", "Producers", f"{p.name}: listed twice; leads and replies cannot tell them apart")
        seen.add(key)
        for problem in p.problems:  # cells that did not parse: routing reads them differently than meant
            add("error", "Producers", f"{p.name}: {problem}")
        if p.mobile and not normalize_phone(p.mobile):
            add("error", "Producers", f"{p.name}: Mobile {p.mobile!r} is not a valid phone number")
        if p.role == "Producer" and not p.lines:
            add("warning", "Producers", f"{p.name}: no Lines, so never a specialization match")
        for line in p.lines:
            if known_lines and not any(covers([line], k) or covers([k], line) for k in known_lines):
                add("warning", "Producers", f"{p.name}: line {line!r} is no Line on the Lines tab")
        if p.backup and config.producer(p.backup) is None:
            add("error", "Producers", f"{p.name}: Backup {_unknown(p.backup, config)}")
        if p.max_active_leads is not None and p.max_active_leads <= 0 and p.role == "Producer":
            add("warning", "Producers", f"{p.name}: Max Active Leads {p.max_active_leads} means no new leads ever")
        for state in p.licensed_states:
            if len(state.strip()) != 2 or not state.strip().isalpha():
                add("warning", "Producers", f"{p.name}: Licensed State {state!r} is not a two-letter state")
        if p.push_webhook.strip() and not p.push_webhook.strip().lower().startswith(("https://", "http://")):
            add("warning", "Producers", f"{p.name}: Push Webhook is not an http(s) URL; reminders go by text")
    mobiles: dict[str, str] = {}
    for p in config.producers:
        number = normalize_phone(p.mobile) if p.mobile else None
        if number and number in mobiles:
            add("warning", "Producers", f"{p.name} and {mobiles[number]} share a Mobile: text replies from it "
                                        f"count as {mobiles[number]}'s")
        elif number:
            mobiles[number] = p.name


def _settings(config: AgencyConfig, add: Add) -> None:
    fallback = config.settings.territory_fallback.strip()
    if fallback.lower().replace(" ", "_").replace("-", "_") not in ROTATION_WORDS and config.producer(fallback) is None:
        add("error", "Settings", f"Territory Fallback {_unknown(fallback, config)} (use round_robin or a name)")
    for level, message in config.settings.problems:  # every setting whose text cannot be read as meant
        add(level, "Settings", message)
    _, consent_problem = read_needs_consent(config.settings)
    if consent_problem:
        add("error", "Settings", consent_problem)


def _territories(config: AgencyConfig, today: date, add: Add) -> None:
    level = "error" if config.settings.routing_model == "territory" else "warning"
    ranges = []
    for t in config.territories:
        label = t.territory or f"ZIP {t.zip_from or t.zip_to}".strip()
        r = zip_range(t)
        if r is None:
            if not t.zip_from.strip():
                what = "ZIP From is blank" + (f" (ZIP To {t.zip_to.strip()})" if t.zip_to.strip() else "")
                add("error", "Territories", f"{label}: {what}; the row is ignored")
                continue
            bad = t.zip_from if zip5(t.zip_from) is None else t.zip_to
            add("error", "Territories", f"{label}: {bad!r} is not a ZIP code; the range is ignored")
            continue
        if r.swapped:
            add("warning", "Territories", f"{label}: ZIP From is above ZIP To; read as {r}")
        if not _has_known_zip(r.lo, r.hi):
            add("warning", "Territories", f"{label}: no known ZIP code in {r}")
        ranges.append((t, r))
        if not t.producer.strip():
            add("error", "Territories", f"{label}: no Producer")
        for who in (t.producer, t.backup):
            if who.strip() and config.producer(who) is None:
                add("error", "Territories", f"{label}: {_unknown(who, config)}")
        if t.backup.strip() and t.backup.strip().lower() == t.producer.strip().lower():
            add("warning", "Territories", f"{label}: the Backup is the Producer")
        backup_name = (t.backup or _own_backup(config, t.producer)).strip()
        person = config.producer(t.producer) if t.producer.strip() else None
        if person is not None and person.role != "Producer":
            goes = f"the backup {backup_name}" if backup_name else "the Territory Fallback"
            add(level, "Territories", f"{label}: Producer {person.name} is a {person.role}, who takes no new "
                                      f"leads; every lead in {r} goes to {goes}")
        owner, backup = _away(config, t.producer, today), _away(config, backup_name, today)
        if owner and backup and config.producer(t.producer) is not None:  # unknown names are reported above
            backup_text = f"backup {backup_name} {backup}" if backup_name else "no backup"
            add(level, "Territories", f"{label}: producer {t.producer.strip()} {owner} and {backup_text}; "
                                      "its leads go to the Territory Fallback")
        known_lines = [l.line for l in config.lines if l.line.strip()]
        for focus in t.line_focus:
            if known_lines and not any(covers([focus], k) for k in known_lines):
                add("warning", "Territories", f"{label}: Line Focus {focus!r} names no Line on the Lines tab")
    for i, (a, ra) in enumerate(ranges):
        for b, rb in ranges[i + 1:]:
            if ra.lo <= rb.hi and rb.lo <= ra.hi:
                lo, hi = max(ra.lo, rb.lo), min(ra.hi, rb.hi)
                same_focus = {f.lower() for f in a.line_focus} == {f.lower() for f in b.line_focus}
                how = ("same Line Focus, so the narrower range, else the row listed first, wins" if same_focus
                       else "the territory whose Line Focus fits the lead's line wins, then a blank Line Focus "
                            "(any line), then a related line; else the narrower range, else the row listed first")
                add("warning", "Territories", f"{a.territory} and {b.territory} overlap on "
                                              f"{lo if lo == hi else f'{lo}–{hi}'}: {how}")


def _own_backup(config: AgencyConfig, name: str) -> str:
    p = config.producer(name) if name.strip() else None
    return p.backup if p else ""


def _away(config: AgencyConfig, name: str, today: date) -> str:
    """Why this person cannot take territory leads today, whatever the lead ('' if they can)."""
    if not name.strip():
        return "not set"
    p = config.producer(name)
    if p is None:
        return "matches no producer"
    if p.role != "Producer":
        return f"is a {p.role} (not in rotation)"
    if not p.is_active:
        return "inactive"
    if p.is_out(today):
        return f"out until {p.out_until.isoformat()}"
    return ""


def _has_known_zip(lo: str, hi: str) -> bool:
    """Whether the offline ZIP data has a ZIP in lo..hi (looked up by 3-digit prefix; huge ranges pass)."""
    import zipcodes
    first, last = int(lo[:3]), int(hi[:3])
    if last - first > 50:
        return True
    for prefix in range(first, last + 1):
        if any(lo <= z["zip_code"] <= hi for z in zipcodes.similar_to(f"{prefix:03d}")):
            return True
    return False


def _weights(config: AgencyConfig, add: Add) -> None:
    rules = parse_weights(config.weights)
    serious = ("unreadable", "not a percent", "listed twice")  # routing would differ from the tab
    for problem in rules.problems:
        add("error" if any(s in problem for s in serious) else "warning", "Weights", problem)
    for row in config.weights:
        for problem in row.problems:
            add("error", "Weights", f"{row.factor}: {problem}")
    given = {factor_key(w.factor) for w in config.weights if w.weight is not None} - {None}
    if config.weights:
        for factor in FACTORS:
            if factor not in given:
                add("warning", "Weights", f"{factor}: no weight; the default {rules.weights[factor]:g} is used")
        total = sum(rules.weights.values())
        if abs(total - 100) > 0.01:
            hint = " (write percents: 30, not 0.3)" if abs(total - 1) < 0.01 else ""
            add("error", "Weights", f"factor weights sum to {total:g}, not 100{hint}")
    for row in config.weights:
        if factor_key(row.factor) in ("capacity", "response_time") and row.bands.strip() \
                and "*" not in row.bands:
            add("warning", "Weights", f"{row.factor}: no '*' band; values past the last limit keep its score")


def _lines(config: AgencyConfig, add: Add) -> None:
    seen: set[str] = set()
    lines = [l.line for l in config.lines if l.line.strip()]
    for row in config.lines:
        key = row.insurance_type.strip().lower()
        if key in seen:
            add("warning", "Lines", f"{row.insurance_type}: listed twice; the first row is used")
        seen.add(key)
        if not row.line.strip():
            add("warning", "Lines", f"{row.insurance_type}: no Line, so no producer ever matches it")
        for related in row.related_lines:
            if not any(covers([l], related) for l in lines):
                add("warning", "Lines", f"{row.insurance_type}: related line {related!r} is no Line on this tab")


def _form_fields(config: AgencyConfig, add: Add) -> None:
    """A Form Fields target must name one of our fields ('First Name' is fine), else it maps nothing."""
    from automations.intake.payload import FIELDS, form_field_target
    for row in config.form_fields:
        if row.field.strip() and form_field_target(row.field) is None:
            add("error", "Form Fields", f"{row.key}: Field {row.field.strip()!r} is not one of ours "
                                        f"({', '.join(FIELDS)}, full_name); its values only reach Notes")


def _spreadsheet(config: AgencyConfig, add: Add) -> None:
    """On a Google Sheet: its own time zone is Settings' (it shows times and evaluates TODAY() and
    NOW() in it), and no column of ours is missing (a renamed header hides its values)."""
    from sheets_schema.gsheets.layout import SHEET_MISSING_COLUMNS, SHEET_TIME_ZONE
    settings = config.settings
    zone, wanted = settings.get(SHEET_TIME_ZONE), settings.tz.key  # 'Pacific' means America/Los_Angeles
    if zone and zone.lower() != wanted.lower():
        add("warning", "Settings", f"the spreadsheet's own time zone is {zone} but Time Zone is {wanted}: the sheet "
                                   f"shows times and evaluates TODAY() and NOW() in {zone}. `leadrouter init` sets it "
                                   "(and converts the times already written)")
    for part in settings.get(SHEET_MISSING_COLUMNS).split("|"):
        tab, _, headers = part.partition(":")
        if headers.strip():
            names = ", ".join(repr(h.strip()) for h in headers.split(","))
            if "'Lead ID'" in names:
                add("error", tab.strip(), "no 'Lead ID' column (renamed or deleted?): rows cannot be matched to "
                                          "leads; rename the column back to 'Lead ID'")
                names = ", ".join(n for n in names.split(", ") if n != "'Lead ID'")
            if names:
                add("warning", tab.strip(), f"no {names} column (renamed or deleted?): the service keeps its own "
                                            "copy and cannot see edits there. `leadrouter init` adds it back")
