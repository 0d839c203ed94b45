"""One automation pass: status sync, the escalation ladder and the follow-up sequence.

A tick reads the state once (config, the leads still to watch, their journal), decides
every due action with pure functions (escalation.ladder, sequence.follow_ups,
status.status_step), then performs them one by one (`handle_one_...() -> bool`):
each message is claimed before it is sent, each step is marked done by claiming its
key, and every state change re-reads the lead inside `store.exclusive()` first. A message
is sent only if its lead is, when it goes, still untouched and with the same owner: a reply
that lands mid-tick stops the rest. So a tick can be killed at any point and run again, or
run by two workers at once, without a duplicate or a missed step. A lead that makes a step
fail is recorded (at most once an hour per step) and the loop moves on.

Status edits on leads the tick does not watch (Contacted -> Lost, Bound -> Lost ...) are
found by a sweep: every SWEEP_EVERY the leads of the last RECENT_DAYS, once a day all of
them, each Status against what the last sweep saw (one state row); a difference the
journal has not logged yet becomes a status step. (A Quoted or Bound edit on an older lead
is seen at once anyway: it lacks its stamp, so the lead is watched.)

A Settings problem (unreadable Business Hours, Time Zone ...) never stops the tick: the
setting's default is used (config.Settings), and the problem is recorded once a day.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time as timer
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sheets_schema import cells
from sheets_schema.models import Activity, Lead

from .actions import Action, Journal, untouched
from automations.call_connect.offers import advance as advance_call_offers
from automations.events import MANAGER_ALERT, REASSIGNED
from .business_hours import BusinessHours
from automations.clock import Clock, for_people
from automations.ams.queue import AmsProvider, drain as drain_ams, queue_note
from automations.config import AgencyConfig
from automations.contact import redact
from .escalation import (MINUTE_ZERO_GRACE, SHARED_JOURNAL_GRACE, choose_new_owner, followthrough,
                         followthrough_key, ladder, manager_messages, minute_zero)
from automations.notify.delivery import deliver, retry_due
from automations.notify.optout import is_opted_out
from automations.ports import Notifier, ProducerLoad, Store
from automations.routing.decision import Decision
from automations.routing.ownerless import OWNERLESS_STATE, ownerless, ownerless_alert
from automations.routing.round_robin import POINTER
from .sequence import follow_ups, next_follow_up, stop
from .status import STATUS_EVENT, status_step

log = logging.getLogger("leadrouter.tick")
MONTHLY_REPORT_STATE = "monthly_report_sent"  # the last month whose report went to the managers
MONTHLY_REPORT_TRIED = "monthly_report_tried"  # "<month>@<time>": built, nothing to send (no manager email ...)
MONTHLY_REPORT_RETRY = timedelta(hours=1)
STATUS_SEEN = "status_seen"  # {"since", "at", "seen": {lead id: Status}}: what the last sweep saw
STATUS_SWEPT_AT = "status_swept_at"  # when it ran (a small row, read by every tick)
STATUS_FULL_SWEEP_AT = "status_full_sweep_at"  # when it last looked at every lead
SWEEP_EVERY = timedelta(minutes=10)
FULL_SWEEP_EVERY = timedelta(days=1)
RECENT_DAYS = 30


@dataclass
class TickReport:
    """What one pass did, in lines a person can read (printed by `leadrouter tick`)."""
    now: datetime
    watched: int = 0
    done: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # Settings the tick could not use as written
    sent: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        line = (f"tick at {for_people(self.now, self.now.tzinfo, seconds=True)}: {self.watched} lead(s) watched, "
                f"{len(self.done)} step(s) done, {self.sent} message(s) sent, {len(self.errors)} error(s) "
                f"in {self.seconds:.3f} s")
        return line + "".join(f"\nSettings problem: {p}" for p in self.problems)


def plan_lead(lead: Lead, config: AgencyConfig, hours: BusinessHours, journal: Journal, now: datetime,
              minute_zero_grace: timedelta = MINUTE_ZERO_GRACE) -> list[Action]:
    """Everything due for one lead at `now`: pure, so tests and `tick` agree on it."""
    status = status_step(lead, journal, now, hours, config)
    actions = [status.action] if status else []
    if not untouched(lead):
        return actions
    first = minute_zero(lead, config, journal, now, minute_zero_grace)
    actions += ([first] if first else []) + ladder(lead, config, hours, journal, now)
    if any(a.kind == "reassign" for a in actions):
        return actions  # the sequence goes on next tick, in the new owner's name
    return actions + follow_ups(lead, config, hours, journal, now)


class Tick:
    def __init__(self, store: Store, notifier: Notifier, clock: Clock, config: AgencyConfig | None = None,
                 ams: AmsProvider | None = None) -> None:
        self.store, self.notifier, self.clock = store, notifier, clock
        self.ams = ams
        self.now = clock.now()
        self.config = config or store.config()
        self.hours = BusinessHours.from_settings(self.config.settings)
        self.report = TickReport(self.now.astimezone(self.config.settings.tz))  # shown to people: agency time
        self._loads: dict[str, ProducerLoad] | None = None
        self._state: dict[str, str] | None = None

    # ---- the pass -----------------------------------------------------------------------
    def handle_settings_problems(self) -> bool:
        """Settings the tick cannot use as written: their defaults are in use; say so once a day."""
        errors = [message for level, message in self.config.settings.problems if level == "error"]
        for message in errors:
            self.report.problems.append(message)
            log.warning("settings problem: %s", message)
            digest = hashlib.sha1(message.encode()).hexdigest()[:12]
            try:
                self.store.claim(Activity(time=self.now, event="settings problem", detail=message[:500],
                                          key=f"settings/{digest}/{self.now.astimezone(self.hours.tz):%Y%m%d}"))
            except Exception:  # noqa: BLE001 - the report line above still says it
                log.exception("could not record the settings problem")
        return bool(errors)

    def handle_ownerless(self, leads: list[Lead]) -> bool:
        """Leads nobody owns: a loud line on every tick (log and `tick`), and the list for /healthz."""
        ids = ownerless(leads)
        alert = ownerless_alert(ids)
        if alert:
            log.error("ALERT: %s", alert)
            self.report.errors.append(f"ALERT: {alert}")
        try:
            if (self.store.get_state(OWNERLESS_STATE) or "") != ",".join(ids):
                self.store.set_state(OWNERLESS_STATE, ",".join(ids))
        except Exception:  # noqa: BLE001 - the alert above still says it
            log.exception("could not record the leads without an owner")
        return bool(ids)
    def handle_ams(self) -> bool:
        """The AMS work that is due (records, notes): queued when it happened, done here, so an AMS
        that was down gets everything when it is back, after restarts too."""
        if self.ams is None:
            return False
        try:
            adapter = self.ams(self.config)
            if adapter is None:
                return False
            done = drain_ams(self.store, adapter, self.clock, self.notifier, self.config)
        except Exception as exc:  # noqa: BLE001 - the AMS must never stop the speed clock
            self.record_error("", "ams", exc)
            return False
        self.report.done.extend(f"ams: {n} {outcome}" for outcome, n in sorted(done.items()))
        return bool(done)

    def handle_hawksoft_email(self) -> bool:
        """Yesterday's HawkSoft import file to the managers, once a day (automations/ams/daily.py)."""
        from automations.ams.daily import STATE, daily_messages
        try:
            day, messages = daily_messages(self.store, self.config, self.now)
            if not day:
                return False
            sent = sum(deliver(m, self.store, self.notifier, self.clock, config=self.config).sent for m in messages)
            self.store.set_state(STATE, day)  # a failed send waits in the outbox
        except Exception as exc:  # noqa: BLE001 - a file must never hold up the leads
            self.record_error("", "hawksoft-email", exc)
            return False
        if sent:
            self.report.done.append(f"HawkSoft file of {day} emailed to {sent} manager(s)")
        return bool(sent)

    def handle_monthly_report(self) -> bool:
        """Last month's report to the managers (Settings: Monthly Report Email = Y), once a month.

        Due from 8 a.m. agency time on the 1st; a worker that was down then catches up within the
        first week. The state row (written once the email is handed over) makes an ordinary tick
        skip it without building the report, and the message key (the month) keeps two workers
        from both sending it. When there is nothing to send yet (no manager with an email, an
        empty month), it is tried again an hour later, so a manager added on the 2nd still gets it.
        """
        settings = self.config.settings
        if not cells.parse_bool(settings.get("Monthly Report Email") or "N"):
            return False
        local = self.now.astimezone(settings.tz)
        if local.day > 7 or (local.day == 1 and local.hour < 8):
            return False
        from automations.reports.frames import Month
        from automations.reports.monthly import monthly_report_message
        month = Month.of(self.now, settings.tz).previous()
        if self.store.get_state(MONTHLY_REPORT_STATE) == str(month):
            return False
        tried, _, at = (self.store.get_state(MONTHLY_REPORT_TRIED) or "").partition("@")
        last = cells.parse_datetime(at) if tried == str(month) else None
        if last is not None and timedelta(0) <= self.now - last < MONTHLY_REPORT_RETRY:
            return False
        try:
            message = monthly_report_message(self.store, self.config, month)
            if message is None:
                self.store.set_state(MONTHLY_REPORT_TRIED, f"{month}@{self.now.isoformat()}")
                return False
            sent = deliver(message, self.store, self.notifier, self.clock, config=self.config).sent
        except Exception as exc:  # noqa: BLE001 - a report must never hold up the leads
            self.record_error("", "monthly-report", exc)
            return False
        self.store.set_state(MONTHLY_REPORT_STATE, str(month))  # a failed send waits in the outbox
        if sent:
            self.report.done.append(f"monthly report {month} emailed to the managers")
        return sent

    def handle_call_offers(self) -> None:
        """Call connect: offers whose window passed (or that were passed or unanswered) move on."""
        try:
            self.report.done.extend(advance_call_offers(self.store, self.notifier, self.clock, self.config))
        except Exception as exc:  # noqa: BLE001 - the ladder below still runs
            self.record_error("", "call-connect", exc)

    def run(self) -> TickReport:
        started = timer.perf_counter()
        self.handle_settings_problems()
        retried = retry_due(self.store, self.notifier, self.clock, self.config)  # deferred and failed sends
        self.report.done.extend(f"outbox: {n} {outcome}" for outcome, n in sorted(retried.items()))
        self.handle_call_offers()
        self.handle_monthly_report()
        leads = self.store.watched_leads(self.now)
        journals = {lead_id: Journal.from_rows(rows) for lead_id, rows in
                    self.store.journal([lead.lead_id for lead in leads]).items()}
        self.report.watched = len(leads)
        self.handle_ownerless(leads)
        plans: list[tuple[Lead, Journal, list[Action]]] = []
        for lead in leads:
            journal = journals.get(lead.lead_id) or Journal()
            try:
                plans.append((lead, journal, plan_lead(lead, self.config, self.hours, journal, self.now,
                                                              minute_zero_grace_for(self.store))))
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others
                self.record_error(lead.lead_id, "plan", exc)
        bookkeeping: dict[str, dict[str, Any]] = {}
        for lead, journal, actions in plans:
            for action in actions:
                try:
                    lead = self.handle_one(action, lead, journal)
                except Exception as exc:  # noqa: BLE001
                    self.record_error(lead.lead_id, action.step, exc)
            changes = self.follow_up_column(lead, journal)
            if changes:
                bookkeeping[lead.lead_id] = changes
        if bookkeeping:
            with self.store.exclusive():  # one transaction; a lead reached meanwhile keeps its cleared column
                for lead_id, changes in bookkeeping.items():
                    try:
                        fresh = self.store.get_lead(lead_id)
                        if fresh is not None and untouched(fresh):
                            self.store.update_lead(lead_id, changes)
                    except Exception as exc:  # noqa: BLE001
                        self.record_error(lead_id, "next-follow-up", exc)
        try:
            self.handle_status_sweep({lead.lead_id for lead in leads})
        except Exception as exc:  # noqa: BLE001
            self.record_error("", "status-sweep", exc)
        self.handle_ams()  # last: what this tick queued (a reassignment, a Status edit) goes out with it
        self.handle_hawksoft_email()
        self.report.seconds = timer.perf_counter() - started
        return self.report

    def follow_up_column(self, lead: Lead, journal: Journal) -> dict[str, Any]:
        """Keep Next Follow-up equal to what the sequence will do next (written only when it changes)."""
        if not untouched(lead):
            return {}
        try:
            wanted = next_follow_up(lead, self.config, self.hours, journal, self.now)
        except Exception as exc:  # noqa: BLE001
            self.record_error(lead.lead_id, "next-follow-up", exc)
            return {}
        wanted = wanted.replace(microsecond=0) if wanted else None
        current = lead.next_follow_up.replace(microsecond=0) if lead.next_follow_up else None
        return {} if wanted == current else {"next_follow_up": wanted}

    def handle_status_sweep(self, watched: set[str]) -> int:
        """Every SWEEP_EVERY (the recent leads; all of them once a day): each lead's Status against
        what the last sweep saw; a change the journal has not logged (a reply logs its own) becomes
        a status step. Leads this tick watched were compared already. The first sweep only
        remembers. Returns the changes logged."""
        def due(state: str, every: timedelta) -> bool:
            at = cells.parse_datetime(self.store.get_state(state))
            return at is None or not timedelta(0) <= self.now - at < every
        if not due(STATUS_SWEPT_AT, SWEEP_EVERY):
            return 0
        memory = json.loads(self.store.get_state(STATUS_SEEN) or "{}")
        full = not memory or due(STATUS_FULL_SWEEP_AT, FULL_SWEEP_EVERY)
        statuses = self.store.lead_statuses(None if full else self.now - timedelta(days=RECENT_DAYS))
        since = cells.parse_datetime(memory.get("since"))
        seen: dict[str, str] = memory.get("seen") or {}
        before = {}
        for lead_id, (received_at, status) in statuses.items():
            was = seen.get(lead_id) or ("New" if since is not None and received_at >= since else None)
            if was is not None and was != status and lead_id not in watched:
                before[lead_id] = was
        journals = self.store.journal(list(before)) if before else {}
        logged, kept = 0, {}
        for lead_id, was in before.items():
            journal = Journal.from_rows(journals.get(lead_id, []))
            if journal.status is None:
                journal.status = was  # no change logged since the sweep that saw `was`
            try:
                logged += self.handle_one_status(lead_id, journal)
            except Exception as exc:  # noqa: BLE001
                self.record_error(lead_id, "status", exc)
                kept[lead_id] = was  # compared again by the next sweep
        swept = {lead_id: kept.get(lead_id, status) for lead_id, (_, status) in statuses.items()}
        current = swept if full else {**seen, **swept}  # a full sweep also forgets deleted rows
        if current != seen or not memory:
            self.store.set_state(STATUS_SEEN, json.dumps({"since": memory.get("since") or self.now.isoformat(),
                                                          "seen": current}, separators=(",", ":")))
        self.store.set_state(STATUS_SWEPT_AT, self.now.isoformat())
        if full:
            self.store.set_state(STATUS_FULL_SWEEP_AT, self.now.isoformat())
        return logged

    # ---- one action -------------------------------------------------------------------
    def handle_one(self, action: Action, lead: Lead, journal: Journal) -> Lead:
        """Perform one action; returns the lead as it is afterwards."""
        if action.kind == "send":
            self.handle_one_send(action, lead, journal)
        elif action.kind in ("skip", "stop"):
            self.finish(action, journal)
        elif action.kind == "status":
            self.handle_one_status(lead.lead_id, journal)
        elif action.kind == "reassign":
            return self.handle_one_reassign(action, lead, journal)
        else:
            raise ValueError(f"unknown action kind {action.kind!r}")
        return lead

    def handle_one_send(self, action: Action, lead: Lead, journal: Journal) -> bool:
        """Deliver each message (claimed before it is sent), then mark the step done.

        The lead is read again before the step's messages: one reached meanwhile (a "C 1001"
        reply to the reminder the step before sent) or handed to someone else gets nothing from
        this step, and the step stays open (a new owner's sequence sends it in their name)."""
        if action.messages:
            fresh = self.store.get_lead(lead.lead_id)
            moved = _moved_on(lead, fresh)
            if moved:
                self.report.done.append(f"{lead.lead_id} {action.step}: not sent, {moved} meanwhile")
                return False
            if fresh.phone and any(m.recipient == "lead" for m in action.messages) \
                    and is_opted_out(self.store, fresh.phone):
                return self.finish(stop(fresh, "the lead opted out (STOP)"), journal)
        sent = sum(deliver(message, self.store, self.notifier, self.clock).sent for message in action.messages)
        self.report.sent += sent
        return self.finish(action, journal, f" ({sent} sent)" if action.messages else "")

    def finish(self, action: Action, journal: Journal, note: str = "") -> bool:
        """Claim the step's key (its done row) and, for a ladder rung, update the Escalation column."""
        row = Activity(time=self.clock.now(), lead_id=action.lead_id, event=action.event or action.kind,
                       detail=action.reason, key=action.key)
        with self.store.exclusive():
            won = self.store.claim(row)
            if won and action.label:
                self.store.update_lead(action.lead_id, {"escalation": action.label})
        journal.add(action.key)
        if won:
            self.report.done.append(f"{action.lead_id} {action.step}: {action.reason}{note}")
        return won

    def handle_one_status(self, lead_id: str, journal: Journal) -> bool:
        """A Status edit seen by the tick: from the lead and journal as they are now, log the change
        (its numbered key, so once), write its stamps and the canonical spelling, send any notice."""
        with self.store.exclusive():
            fresh = self.store.get_lead(lead_id)
            if fresh is None:
                return False
            current = Journal.from_rows(self.store.journal([lead_id]).get(lead_id, []))
            if current.status is None:
                current.status = journal.status  # what the sweep saw, when nothing is logged yet
            step = status_step(fresh, current, self.now, self.hours, self.config)
            if step is None:
                return False
            action = step.action
            if not self.store.claim(Activity(time=self.clock.now(), lead_id=lead_id, event=STATUS_EVENT,
                                             detail=action.reason, key=action.key)):
                return False
            if step.changes:
                self.store.update_lead(lead_id, step.changes)
            if "/stamp/" not in action.key:  # a change of Status, not a stamp written again
                queue_note(self.store, lead_id, "lead.status", action.reason, self.now, self.config)
        journal.add(action.key)
        sent = sum(deliver(m, self.store, self.notifier, self.clock).sent for m in action.messages)
        self.report.sent += sent
        self.report.done.append(f"{lead_id} status: {action.reason}" + (f" ({sent} sent)" if sent else ""))
        return True

    def handle_one_reassign(self, action: Action, lead: Lead, journal: Journal) -> Lead:
        """The 30-minute rung: a new owner in one transaction, then the messages that follow it."""
        result = move_lead(self.store, lead, self.config, self.now, self.loads(), self.state(),
                           key=action.key, reason=action.reason, label=action.label)
        if result.stale:  # someone acted meanwhile (contact, PASS, another worker): re-plan next tick
            journal.add(action.key)
            return result.lead
        if result.decision is None:  # nobody else can take it: the manager hears instead
            fresh = result.lead
            alert = Action(action.key, lead.lead_id, action.step, "send",
                           f"{action.reason}; nobody else available to take it: manager alerted", MANAGER_ALERT,
                           f"{action.label.split(':')[0]}: nobody to reassign to, manager alerted",
                           tuple(manager_messages(action.key, fresh, self.config.producer(fresh.assigned_to),
                                                  self.config,
                                                  round(self.hours.minutes_between(fresh.received_at, self.now)))))
            self.handle_one_send(alert, fresh, journal)
            return fresh
        moved = result.lead
        journal.add(action.key)
        journal.add(followthrough_key(moved))
        journal.reassignments += 1
        self._move_load(lead.assigned_to, moved.assigned_to)
        self.report.done.append(f"{lead.lead_id} {action.step}: {moved.escalation} ({result.decision.reason})")
        for step in followthrough(moved, self.config, self.hours, journal):
            self.handle_one_send(step, moved, journal)
        return moved

    # ---- helpers ------------------------------------------------------------------------
    def loads(self) -> dict[str, ProducerLoad]:
        if self._loads is None:
            self._loads = self.store.workload(self.now)
        return self._loads

    def state(self) -> dict[str, str]:
        if self._state is None:
            self._state = {POINTER: self.store.get_state(POINTER) or ""}
        return self._state

    def _move_load(self, old: str, new: str) -> None:
        loads = self.loads()
        if old in loads:
            loads[old].active = max(0, loads[old].active - 1)
        target = loads.setdefault(new, ProducerLoad())
        target.active += 1
        target.last_assigned_at = self.now

    def record_error(self, lead_id: str, step: str, exc: Exception) -> None:
        detail = redact(f"{step}: {type(exc).__name__}: {exc}")[:500]
        self.report.errors.append(f"{lead_id} {detail}")
        log.warning("tick error on %s %s", lead_id, detail)
        try:  # at most one row an hour per lead and step, so a stuck lead does not flood the log
            self.store.claim(Activity(time=self.now, lead_id=lead_id, event="tick error", detail=detail,
                                      key=f"{lead_id}/error/{step}/{self.now:%Y%m%d%H}"))
        except Exception:  # noqa: BLE001 - the store itself is failing: the log line above is all we can do
            log.exception("could not record the tick error")


def _moved_on(planned: Lead, fresh: Lead | None) -> str:
    """Why a message planned for `planned` must not go now ('' when it still should)."""
    if fresh is None:
        return "the lead is gone"
    if not untouched(fresh):
        return f"the lead was reached ({fresh.status})"
    if fresh.assigned_to != planned.assigned_to:
        return f"the lead went to {fresh.assigned_to or 'nobody'}"
    return ""


def minute_zero_grace_for(store: Store) -> timedelta:
    """How long the tick leaves a new lead's first text to the web process that saved it.

    Where every process claims in one journal (SQL), a few seconds: a claim cannot be taken
    twice, so the tick and a slow web send never both send, and a web process killed after
    saving the lead costs its owner one tick, not a minute. With a journal per host (Google
    Sheets), the tick cannot see a web host's claim until it is mirrored: a minute.
    """
    return SHARED_JOURNAL_GRACE if store.shared_journal else MINUTE_ZERO_GRACE


def run_tick(store: Store, notifier: Notifier, clock: Clock, config: AgencyConfig | None = None,
             ams: AmsProvider | None = None) -> TickReport:
    """One automation pass at `clock.now()`."""
    store.refresh()  # on a Google Sheet: one read of every tab, then queued writes; nothing on SQL
    return Tick(store, notifier, clock, config, ams).run()


# ---- reassignment: the ladder's 30-minute rung (a PASS reply uses automations.speed_clock.reassign) --------------------------
@dataclass
class Move:
    lead: Lead                     # the lead as it is now
    decision: Decision | None      # None: nobody but the excluded could take it
    stale: bool = False            # the lead changed (or the step was claimed) since it was planned


def move_lead(store: Store, lead: Lead, config: AgencyConfig, now: datetime, loads: dict[str, ProducerLoad],
              state: dict[str, str], *, key: str, reason: str, label: str) -> Move:
    """In one exclusive section: re-read the lead, pick its new owner (escalation.choose_new_owner,
    never the owner or the one before), claim `key`, write the owner and the 'reassigned' row.

    The messages are not sent here: escalation.followthrough plans them from the journal, so
    a crash right after this transaction is finished by the next tick.
    """
    with store.exclusive():
        fresh = store.get_lead(lead.lead_id)
        if (fresh is None or not untouched(fresh) or fresh.assigned_to != lead.assigned_to
                or fresh.assigned_at != lead.assigned_at):
            return Move(fresh or lead, None, stale=True)
        decision = choose_new_owner(fresh, config, loads, state, now, {fresh.assigned_to, fresh.reassigned_from})
        if decision is None:
            return Move(fresh, None)
        if not store.claim(Activity(time=now, lead_id=lead.lead_id, event="escalation", detail=reason, key=key)):
            return Move(fresh, None, stale=True)
        old = fresh.assigned_to or "nobody"
        changes = {"assigned_to": decision.owner, "assigned_at": now, "reassigned_from": fresh.assigned_to,
                   "routing_reason": f"reassigned from {old} ({reason}): {decision.reason}",
                   "escalation": f"{label} from {old} to {decision.owner}"}
        store.update_lead(lead.lead_id, changes)
        moved = fresh.model_copy(update=changes)
        store.add_activity([Activity(time=now, lead_id=lead.lead_id, event=REASSIGNED,
                                     detail=f"{old} -> {decision.owner}: {decision.reason}",
                                     key=followthrough_key(moved))])
        queue_note(store, lead.lead_id, "lead.reassigned", f"{old} -> {decision.owner} ({reason}): "
                   f"{decision.reason}", now, config)
    return Move(moved, decision)


