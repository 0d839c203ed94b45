"""The AMS queue: AMS work that must still be done, kept durably and drained by the tick.

Why a queue and not a call on the form's request path: an AMS can be slow (seconds per call)
or down for hours; the form answers at once and the lead's owner is texted regardless. Work
is queued in the same transaction that writes the lead (or its status change / reassignment),
in the store's private state (`ams_queue:00` ... `ams_queue:15`, the notify outbox's layout),
so it survives restarts; `drain` (each tick, and once right after a post, off the request
thread) does what is due.

Exactly once, as the notify outbox does it: each try claims `<job key>#<n>` in the Activity log
before the AMS is called, so two workers never both call. A retried create (any try after the
first: the one before may have created the record and lost the answer) first asks the AMS for a
record made for this lead, and only creates when there is none. The AMS's id is kept on the lead
(Leads: AMS ID) with an `ams created` Activity row. Notes wait for their lead's record.
A passing failure waits with backoff; a refused record (a field the AMS rejects) is given up
and the managers are told once, with the AMS's own message; refused credentials keep every
record waiting (nothing is lost) and the managers are told once.
"""
from __future__ import annotations

import hashlib
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Callable, Literal

from pydantic import BaseModel

from sheets_schema.models import Activity, Lead

from automations.clock import Clock
from automations.config import AgencyConfig
from automations.contact import redact
from automations.notify.delivery import deliver
from automations.ports import Message, Notifier, Store
from automations.state_shelf import StateShelf

from .port import AMS, AmsError, AmsNote
from .record import record_of
from .settings import read_kind

log = logging.getLogger("leadrouter.ams")
QUEUE = "ams_queue"
BACKOFF = (60, 120, 300, 600, 900)  # seconds after failed attempt n (the last repeats)
CREDENTIALS_WAIT = timedelta(hours=1)  # refused credentials: try again hourly until someone fixes them
NOTE_WAIT = timedelta(minutes=1)  # a note whose record is not created yet
LEASE = timedelta(minutes=10)  # a call in flight longer than this counts as interrupted
CREATED = "ams created"

AmsProvider = Callable[[AgencyConfig], "AMS | None"]


class Job(BaseModel):
    key: str
    lead_id: str
    event: str  # lead.created | lead.status | lead.reassigned
    text: str = ""
    at: datetime
    due: datetime
    created: datetime
    state: Literal["waiting", "sending", "failed"] = "waiting"
    seq: int = 0
    attempts: int = 0
    error: str = ""


def enabled(config: AgencyConfig) -> bool:
    """True when Settings -> AMS names a system (an unreadable value is `check`'s to report)."""
    return read_kind(config.settings.get("AMS")) not in (None, "none")


def created_key(lead_id: str) -> str:
    return f"{lead_id}/ams/created"


# ---- queueing (call inside store.exclusive(), with the write it belongs to) ---------------------
def queue_created(store: Store, lead: Lead, now: datetime, config: AgencyConfig) -> None:
    """The lead's AMS record is owed."""
    if enabled(config):
        _hold(store, Job(key=created_key(lead.lead_id), lead_id=lead.lead_id, event="lead.created", at=now,
                         due=now, created=now))


def queue_note(store: Store, lead_id: str, event: str, text: str, now: datetime,
               config: AgencyConfig | None = None) -> None:
    """A status change or reassignment is owed to the lead's AMS record as a note."""
    if enabled(config or store.config()):
        _hold(store, Job(key=f"{lead_id}/ams/{event}/{now:%Y%m%dT%H%M%S%f}", lead_id=lead_id, event=event,
                         text=text, at=now, due=now, created=now))


# ---- draining -------------------------------------------------------------------------------
def drain(store: Store, ams: AMS, clock: Clock, notifier: Notifier | None = None,
          config: AgencyConfig | None = None, lead_id: str = "") -> Counter:
    """Do the AMS work that is due (only `lead_id`'s when given). Safe in several workers at once.
    Returns how each job ended ({"created": 2, "failed": 1, ...})."""
    report: Counter = Counter()
    jobs = [j for j in pending(store) if j.due <= clock.now() and (not lead_id or j.lead_id == lead_id)]
    jobs.sort(key=lambda j: (j.event != "lead.created", j.at))  # a lead's record before its notes
    for job in jobs:
        try:
            report[handle_one(job, store, ams, clock, notifier, config)] += 1
        except Exception:  # noqa: BLE001 - the store failed mid-job: the job is still queued
            log.exception("AMS job %s could not be handled", job.key)
            report["error"] += 1
    return report


def handle_one(job: Job, store: Store, ams: AMS, clock: Clock, notifier: Notifier | None,
               config: AgencyConfig | None) -> str:
    now = clock.now()
    lead = store.get_lead(job.lead_id)
    if lead is None:
        with store.exclusive():
            _release(store, job.key)
        return "gone"
    creating = job.event == "lead.created"
    if creating and lead.ams_id:
        with store.exclusive():
            _release(store, job.key)
        return "done"
    if not creating and not lead.ams_id:
        if any(a.key == f"{created_key(lead.lead_id)}/refused" for a in store.activity(lead.lead_id)):
            with store.exclusive():  # the AMS refused the record itself: a note has nowhere to go
                store.claim(Activity(time=now, lead_id=job.lead_id, event="ams skipped",
                                     detail=f"{job.event}: the AMS refused this lead's record", key=f"{job.key}/skipped"))
                _release(store, job.key)
            return "skipped"
        with store.exclusive():  # its record is not there yet: wait for the create (queued before it)
            if not any(j.key == created_key(lead.lead_id) for j in pending(store)):
                _hold(store, Job(key=created_key(lead.lead_id), lead_id=lead.lead_id, event="lead.created",
                                 at=now, due=now, created=now))
            _hold(store, job.model_copy(update={"due": now + NOTE_WAIT}))
        return "waiting"
    seq = job.seq + 1
    claim = f"{job.key}#{seq}"
    again = " (again: looking it up first)" if creating and seq > 1 else (" (again)" if seq > 1 else "")
    with store.exclusive():
        if not store.claim(Activity(time=now, lead_id=job.lead_id, event="ams sending",
                                    detail=f"{job.event} to {ams.name}{again}", key=claim)):
            return "claimed"
        _hold(store, job.model_copy(update={"state": "sending", "seq": seq, "due": now + LEASE}))
    record = record_of(lead)
    try:
        if creating:
            found = _created_before(ams, lead) if seq > 1 else None
            ams_id = found or ams.create_client(record)
        else:
            ams.add_note(lead.ams_id, record, AmsNote(job.lead_id, job.event, job.text, job.at.isoformat()))
    except AmsError as exc:
        return _failed(job.model_copy(update={"seq": seq}), exc, store, ams, clock, notifier, config, lead)
    except Exception as exc:  # noqa: BLE001 - a broken adapter must not lose the work
        log.exception("AMS adapter %s crashed", ams.name)
        return _failed(job.model_copy(update={"seq": seq}), AmsError(type(exc).__name__), store, ams, clock,
                       notifier, config, lead)
    later = clock.now()
    with store.exclusive():
        if creating:
            how = "found (an earlier try had created it)" if found else "created"
            store.claim(Activity(time=later, lead_id=job.lead_id, event=CREATED,
                                 detail=f"{ams.name} record {ams_id} {how}", key=created_key(job.lead_id)))
            store.update_lead(job.lead_id, {"ams_id": ams_id})
        else:
            store.add_activity([Activity(time=later, lead_id=job.lead_id, event="ams note",
                                         detail=f"{job.event} on {ams.name} record {lead.ams_id}: {job.text[:300]}",
                                         key=f"{claim}|sent")])
        _release(store, job.key)
    return "created" if creating else "noted"


def _created_before(ams: AMS, lead: Lead) -> str | None:
    client = ams.find_client(email=lead.email, phone=lead.phone, last_name=lead.last_name, reference=lead.lead_id)
    return client.ams_id if client is not None and client.ams_id else None


def _failed(job: Job, exc: AmsError, store: Store, ams: AMS, clock: Clock, notifier: Notifier | None,
            config: AgencyConfig | None, lead: Lead) -> str:
    now = clock.now()
    error = redact(str(exc))[:500] or type(exc).__name__
    attempts = job.attempts + 1
    if exc.permanent:
        detail = f"{job.event} refused by {ams.name}: {error}"
        with store.exclusive():
            store.claim(Activity(time=now, lead_id=job.lead_id, event="ams refused", detail=detail,
                                 key=f"{job.key}/refused"))
            _release(store, job.key)
        log.warning("AMS refused %s: %s", job.key, error)
        _alert(store, notifier, clock, config, lead, f"{lead.lead_id}/ams/refused/{_digest(error)}",
               f"{ams.name} refused lead {lead.lead_id} ({lead.full_name}): {error}. Fix it in {ams.name} by "
               f"hand; leadrouter does not send this record again.")
        return "refused"
    if exc.credentials:
        retry_at = now + CREDENTIALS_WAIT
        _alert(store, notifier, clock, config, lead, f"ams/credentials/{_digest(ams.name + error)}",
               f"{ams.name} refused leadrouter's credentials: {error}. Every lead waits for the AMS (none is "
               f"lost) until the settings are fixed; see `leadrouter check --online`.")
    else:
        retry_at = now + timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])
    detail = f"{job.event} to {ams.name}: {error}; attempt {attempts}, next try {retry_at.isoformat(timespec='seconds')}"
    with store.exclusive():
        _hold(store, job.model_copy(update={"state": "failed", "due": retry_at, "attempts": attempts, "error": error}))
        store.claim(Activity(time=now, lead_id=job.lead_id, event="ams failed", detail=detail,
                             key=f"{job.key}/failed"))  # the first failure only: an outage is not a flood
    log.warning("AMS call failed, will retry: %s", detail)
    return "failed"


def _alert(store: Store, notifier: Notifier | None, clock: Clock, config: AgencyConfig | None, lead: Lead,
           key: str, text: str) -> None:
    """Tell every active manager once (the key is claimed by delivery, so never twice)."""
    config = config or store.config()
    messages = []
    for manager in (m for m in config.managers if m.is_active):
        channel, to = ("email", manager.email) if manager.email else ("sms", manager.mobile)
        if to:
            messages.append(Message(key=f"{key}/{manager.name}/{channel}", channel=channel, to=to, body=text,
                                    subject="The AMS refused a lead" if channel == "email" else "",
                                    lead_id=lead.lead_id, recipient=manager.name, template="ams_refused"))
    if notifier is None or not messages:
        store.claim(Activity(time=clock.now(), lead_id=lead.lead_id, event="ams alert", detail=text[:500], key=key))
        return
    for message in messages:
        deliver(message, store, notifier, clock)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


# ---- the durable part: JSON documents in the store's state ------------------------------------
SHELF = StateShelf(QUEUE)


def pending(store: Store) -> list[Job]:
    """Every job still owed, soonest first (a damaged entry is skipped, never blocks the others)."""
    out = []
    for entry in SHELF.documents(store):
        try:
            out.append(Job.model_validate(entry))
        except ValueError:
            continue
    return sorted(out, key=lambda j: j.due)


def _hold(store: Store, job: Job) -> None:
    SHELF.put(store, job.key, job.model_dump(mode="json"))


def _release(store: Store, key: str) -> None:
    SHELF.drop(store, key)
