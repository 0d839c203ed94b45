"""The escalation ladder for a lead nobody has contacted yet: pure decisions with reasons.

The rungs count business minutes (the office's hours, holidays and time zone) since the
lead's current Assigned At, so a 2 a.m. lead starts its clock when the office opens and a
reassigned lead's clock restarts with its new owner. High-priority sources (referrals,
walk-ins) climb at half the minutes.

    5  -> reminder to the owner            (producer_reminder_5)
    15 -> text + email warning             (producer_warning_15, producer_warning_15_email)
    30 -> reassign: the territory backup when its capacity score is above 5, else the
          best available producer writing the line, else routing's own choice without
          the owner; past Settings "Max Reassignments", only the manager is alerted
    60 since arrival, still untouched -> manager alert, once per lead (manager_alert[_email])

Each owner has their own ladder: rung keys are "L-1001/esc-5" for the first owner and
"L-1001/esc-5@<Assigned At>" after a reassignment, so any reassignment path that sets
Assigned At and Reassigned From restarts the ladder without a shared counter.

The 5-minute reminder goes to the owner's Push Webhook when they have one (a text if the
push fails). Minute 0 is the web process's job; `minute_zero` only sends what it never did
(the process died between saving the lead and its background send).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from sheets_schema.models import Lead, Producer

from .actions import Action, Journal, stamp, untouched
from automations.events import MANAGER_ALERT
from .business_hours import BusinessHours
from automations.config import AgencyConfig
from automations.notify.delivery import compose, new_lead_messages
from automations.ports import Message, ProducerLoad
from automations.routing import decide, reassignment
from automations.routing.territory import territory_backup
from automations.routing.decision import Decision


@dataclass(frozen=True)
class Rung:
    step: str
    minutes: float
    what: str
    templates: tuple[str, ...] = ()


RUNGS = (
    Rung("esc-5", 5, "reminder", ("producer_reminder_5",)),
    Rung("esc-15", 15, "warning", ("producer_warning_15", "producer_warning_15_email")),
    Rung("esc-30", 30, "reassign"),
)
MANAGER_RUNG = Rung("esc-60", 60, "manager alert", ("manager_alert", "manager_alert_email"))


def speed(lead: Lead) -> float:
    """High-priority leads climb the ladder twice as fast."""
    return 0.5 if lead.priority.strip().lower() == "high" else 1.0


def generation(lead: Lead) -> str:
    """'' for the first owner; '@<Assigned At>' once the lead has been reassigned."""
    if not lead.reassigned_from or lead.assigned_at is None:
        return ""
    return "@" + stamp(lead.assigned_at)


def rung_key(lead: Lead, rung: Rung) -> str:
    suffix = "" if rung is MANAGER_RUNG else generation(lead)
    return f"{lead.lead_id}/{rung.step}{suffix}"


def followthrough_key(lead: Lead) -> str:
    """Marks the reassignment that made the current generation (written with the reassignment)."""
    return f"{lead.lead_id}/reassign{generation(lead)}"


def ladder(lead: Lead, config: AgencyConfig, hours: BusinessHours, journal: Journal, now: datetime) -> list[Action]:
    """The ladder steps due for `lead` at `now` (none once someone has reached the lead)."""
    if not untouched(lead):
        return []
    actions = followthrough(lead, config, hours, journal)
    factor = speed(lead)
    owner = config.producer(lead.assigned_to)
    manager_key = rung_key(lead, MANAGER_RUNG)
    climbed = journal.done(rung_key(lead, RUNGS[-1]))  # this owner's ladder is over
    if climbed and journal.done(manager_key):
        return actions  # nothing left to compute (the common case for old leads)
    waited = 0.0 if climbed else hours.minutes_between(lead.assigned_at or lead.received_at, now)
    since_arrival = hours.minutes_between(lead.received_at, now)
    due = [r for r in RUNGS if not climbed and waited >= r.minutes * factor]
    cap_reached = journal.reassignments >= config.settings.max_reassignments
    manager_told = False
    for rung in due:
        key = rung_key(lead, rung)
        if journal.done(key):
            continue
        if rung is not due[-1]:  # a later rung is due too (the tick was down): do only the latest
            actions.append(Action(key, lead.lead_id, rung.step, "skip", f"{rung.what} skipped: "
                                  f"{due[-1].what} is due too ({waited:.0f} business min)", "escalation skipped"))
            continue
        actions.append(_rung_action(lead, rung, key, owner, config, journal, waited, factor, since_arrival))
        manager_told = rung is RUNGS[-1] and cap_reached
    limit = MANAGER_RUNG.minutes * factor
    if since_arrival >= limit and not journal.done(manager_key):
        if manager_told:  # one alert per pass is enough: the 30-minute rung just told the manager
            actions.append(Action(manager_key, lead.lead_id, MANAGER_RUNG.step, "skip", "manager alert skipped: "
                                  "the manager was alerted by the 30-minute rung in the same pass",
                                  "escalation skipped"))
            return actions
        actions.append(Action(
            manager_key, lead.lead_id, MANAGER_RUNG.step, "send",
            f"untouched {since_arrival:.0f} business min since arrival (limit {limit:g}): manager alerted",
            MANAGER_ALERT, f"{limit:g} min: manager alerted",
            tuple(manager_messages(manager_key, lead, owner, config, round(since_arrival)))))
    return actions


def _rung_action(lead: Lead, rung: Rung, key: str, owner: Producer | None, config: AgencyConfig,
                 journal: Journal, waited: float, factor: float, since_arrival: float) -> Action:
    minutes = f"{rung.minutes * factor:g}"
    who = lead.assigned_to or "nobody"
    if rung.step != "esc-30":
        messages: list[Message] = []
        if owner is not None:
            for template in rung.templates:  # the reminder by push when the owner has a webhook
                messages += compose(key, template, lead, config, to_producer=owner, owner=owner,
                                    push=rung.step == "esc-5", Minutes=str(round(waited)))
        reason = f"{rung.what} to {who}: untouched {waited:.0f} business min (rung {minutes})"
        if not messages:
            reason += "; nobody to message (owner unknown or without a mobile/email)"
        return Action(key, lead.lead_id, rung.step, "send", reason, "escalation",
                      f"{minutes} min: {rung.what} to {who}", tuple(messages))
    cap = config.settings.max_reassignments
    if journal.reassignments >= cap:
        reason = (f"untouched {waited:.0f} business min with {who}, and the lead was already reassigned "
                  f"{journal.reassignments} time(s) (Max Reassignments {cap}): manager alerted instead")
        return Action(key, lead.lead_id, rung.step, "send", reason, MANAGER_ALERT,
                      f"{minutes} min: reassignment cap reached, manager alerted",
                      tuple(manager_messages(key, lead, owner, config, round(since_arrival))))
    return Action(key, lead.lead_id, rung.step, "reassign",
                  f"untouched {waited:.0f} business min with {who} (rung {minutes})", "escalation",
                  f"{minutes} min: reassigned")


def manager_messages(key: str, lead: Lead, owner: Producer | None, config: AgencyConfig,
                     minutes: int) -> list[Message]:
    out: list[Message] = []
    for manager in config.managers:
        if not manager.is_active:
            continue
        for template in MANAGER_RUNG.templates:
            out += compose(key, template, lead, config, to_producer=manager, owner=owner, Minutes=str(minutes))
    return out


def followthrough(lead: Lead, config: AgencyConfig, hours: BusinessHours, journal: Journal) -> list[Action]:
    """After a ladder reassignment: the new owner's new-lead messages and the note to the old owner.

    Planned from the journal, not sent inline only, so a crash between the reassignment and
    its messages is finished by the next tick (and never sent twice: each message has its key).
    """
    marker = followthrough_key(lead)
    done = marker + "/notified"
    if not generation(lead) or not journal.done(marker) or journal.done(done):
        return []
    step = f"reassigned-{max(journal.reassignments, 1)}"
    messages = new_lead_messages(lead, config, step=step)
    previous = config.producer(lead.reassigned_from)
    if previous is not None:  # how long *they* had it, not how old the lead is
        had = hours.minutes_between(previous_start(lead, journal), lead.assigned_at)
        messages += compose(f"{lead.lead_id}/{step}", "producer_reassigned_away", lead, config,
                            to_producer=previous, owner=previous, NewOwner=lead.assigned_to,
                            Minutes=str(round(had)))
    return [Action(done, lead.lead_id, step, "send",
                   f"{lead.assigned_to} told of the lead; {lead.reassigned_from} told it was reassigned",
                   "reassignment notified", messages=tuple(messages))]


def previous_start(lead: Lead, journal: Journal) -> datetime:
    """When the owner before the current one got the lead: the Assigned At in the key of the
    30-minute rung that moved it ("L-1001/esc-30@<stamp>"), or arrival for the first owner."""
    pattern = re.compile(rf"{re.escape(lead.lead_id)}/esc-30@(\d{{8}}T\d{{6}})")
    current = stamp(lead.assigned_at) if lead.assigned_at else "~"
    earlier = sorted(m.group(1) for m in map(pattern.fullmatch, journal.keys) if m and m.group(1) < current)
    if not earlier:
        return lead.received_at
    return datetime.strptime(earlier[-1], "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)


# ---- minute 0, when the web process never sent it ---------------------------------------------
MINUTE_ZERO_GRACE = timedelta(minutes=1)  # the web's background send normally takes a second
SHARED_JOURNAL_GRACE = timedelta(seconds=5)  # one journal for all (SQL): a claim decides, so the tick need not wait
MINUTE_ZERO_LIMIT = timedelta(days=1)     # older news is the ladder's business


def minute_zero(lead: Lead, config: AgencyConfig, journal: Journal, now: datetime,
                grace: timedelta = MINUTE_ZERO_GRACE) -> Action | None:
    """The current owner's new-lead text and email if nobody ever claimed them, `grace` after
    the assignment (tick.minute_zero_grace_for). Same keys as the web process uses, so a slow web send and this never both go:
    "L-1001/assigned/..." for the first owner, "L-1001/reassigned@<Assigned At>/..." after a PASS.
    A ladder move has its own (followthrough), so nothing is planned for it here."""
    owner = config.producer(lead.assigned_to) if lead.assigned_to else None
    assigned = lead.assigned_at or lead.received_at
    if owner is None or not untouched(lead) or not grace <= now - assigned <= MINUTE_ZERO_LIMIT:
        return None
    if not lead.reassigned_from:
        step = "assigned"
    elif generation(lead) and journal.done(followthrough_key(lead)):
        return None
    elif _pass_notified(lead, owner, journal):
        return None
    else:
        step = f"reassigned@{assigned.isoformat()}"
    wanted = [c for c, address in (("sms", owner.mobile), ("email", owner.email)) if address]
    if all(journal.done(f"{lead.lead_id}/{step}/{owner.name}/{c}") for c in wanted):
        return None
    messages = [m for m in new_lead_messages(lead, config, step=step) if not journal.done(m.key)]
    if not messages:
        return None
    return Action(f"{lead.lead_id}/{step}/late", lead.lead_id, "minute-0", "send",
                  f"new-lead {' and '.join(m.channel for m in messages)} to {owner.name}: never sent when "
                  f"the lead was saved, sent by the tick", "new-lead messages sent late", messages=tuple(messages))


def _pass_notified(lead: Lead, owner: Producer, journal: Journal) -> bool:
    """Whether a PASS's new-lead message to `owner` for this assignment was claimed (its key holds
    the moment of the PASS, in whatever precision the web process had)."""
    pattern = re.compile(rf"{re.escape(lead.lead_id)}/reassigned@(.+)/{re.escape(owner.name)}/(sms|email)")
    for match in map(pattern.fullmatch, journal.keys):
        try:
            moment = datetime.fromisoformat(match.group(1)) if match else None
        except ValueError:
            continue
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        if moment is not None and lead.assigned_at and abs(moment - lead.assigned_at) < timedelta(seconds=1):
            return True
    return False


# ---- who takes a lead at 30 minutes ----------------------------------------------------------
def choose_new_owner(lead: Lead, config: AgencyConfig, loads: dict[str, ProducerLoad], state: dict[str, str],
                     now: datetime, exclude: set[str]) -> Decision | None:
    """Who takes an untouched lead, and why; None when nobody but the excluded can.

    The guide's rule is routing's `reassignment` (the territory backup when its capacity score
    is above 5, else the best available producer writing the line). When it finds nobody, the
    routing model chooses among everyone else, leaving out a backup that was just passed over.
    """
    today = now.astimezone(config.settings.tz).date()
    chosen = reassignment(lead, config, loads, today, exclude=exclude)
    if chosen is not None:
        return replace(chosen, model="escalation")
    excluded = {n.strip().lower() for n in (*exclude, lead.assigned_to) if n and n.strip()}
    backup = territory_backup(lead, config, lead.assigned_to).strip().lower() if lead.assigned_to else ""
    for skip in ((excluded | {backup}) if backup else excluded, excluded):
        others = replace(config, producers=tuple(p for p in config.producers if p.name.strip().lower() not in skip))
        decision = decide(lead, others, loads, state, now)
        if decision.owner and not decision.fallback:
            break
    if not decision.owner or decision.owner.strip().lower() in excluded:
        return None
    return Decision(decision.owner, f"no available {lead.line or 'matching'} producer; " + decision.reason,
                    "escalation", fallback=decision.fallback)
