"""The follow-up sequence while a lead is not yet contacted: pure decisions with reasons.

    min 5   text to the lead (lead_text_min5) + intro email (lead_intro_email)
    hour 1  call reminder to the owner (producer_call_reminder)
    hour 4  text to the lead (lead_text_h4)
    hour 24 call reminder to the owner
    hour 48 "last try" email to the lead (lead_last_try_email)
    day 7   final email (lead_final_email)
    day 30, 60, ... nurture email (lead_nurture_email), monthly

Which clock: the guide's steps are relative to arrival, but they pace the producer's
call attempts ("I just tried to call you"), so they follow the office, not the wall:
- minutes and hours (min 5, h1, h4) are business minutes since arrival: a 2 a.m. lead
  gets its minute-5 text at 8:05, right after the first call of the day;
- except the intro email, which claims no call ("thanks for asking ... what to expect"):
  it goes 5 real minutes after arrival at any hour, so a 7 p.m. lead hears from the agency
  that evening, not at 8:05 next morning. It is outside the order below (the text may come
  after it), and like every email it ignores quiet hours;
- h24 and h48 are the next business day and the one after, at the time the clock started
  (a Friday 4:50 p.m. lead: Monday and Tuesday 4:50 p.m., not Saturday);
- day 7 and the monthly nurture are calendar days in the agency's zone (a 10:00 lead gets
  them at 10:00, across a clock change too), moved to the next opening.
Steps never run out of order, and texts to the lead also wait for allowed hours in the
lead's own time zone (quiet_hours.next_text_time). The sequence stops on contact (Status
leaves New, which includes Lost) and on opt-out (STOP).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from sheets_schema.models import Lead

from .actions import Action, Journal, untouched
from .business_hours import MAX_DAYS, BusinessHours
from automations.config import AgencyConfig
from automations.notify.delivery import compose, template_for
from automations.ports import SEQUENCE_STOPPED
from automations.notify.quiet_hours import next_text_time
from automations.notify.templates import channel_of

NURTURE_DAYS = 30
NURTURE_TEMPLATE = "lead_nurture_email"


@dataclass(frozen=True)
class FollowUp:
    step: str
    template: str
    to: str          # "lead" or "owner"
    clock: str       # business (minutes) | wall (real minutes) | days (business days) | calendar (days)
    amount: float
    name: str


STEPS = (
    FollowUp("seq-min5", "lead_text_min5", "lead", "business", 5, "minute-5 text"),
    FollowUp("seq-min5-email", "lead_intro_email", "lead", "wall", 5, "intro email"),
    FollowUp("seq-h1", "producer_call_reminder", "owner", "business", 60, "hour-1 call reminder"),
    FollowUp("seq-h4", "lead_text_h4", "lead", "business", 240, "hour-4 text"),
    FollowUp("seq-h24", "producer_call_reminder", "owner", "days", 1, "hour-24 call reminder"),
    FollowUp("seq-h48", "lead_last_try_email", "lead", "days", 2, "last-try email"),
    FollowUp("seq-d7", "lead_final_email", "lead", "calendar", 7, "final email"),
)


@dataclass(frozen=True)
class Due:
    follow_up: FollowUp
    key: str
    at: datetime
    channel: str


def stop_key(lead: Lead) -> str:
    return lead.lead_id + SEQUENCE_STOPPED


def stop(lead: Lead, why: str) -> Action:
    return Action(stop_key(lead), lead.lead_id, "seq-stop", "stop", f"follow-up sequence stopped: {why}",
                  "follow-up stopped")


def nurture(month: int) -> FollowUp:
    days = NURTURE_DAYS * month
    return FollowUp(f"seq-d{days}", NURTURE_TEMPLATE, "lead", "calendar", days, f"day-{days} nurture email")


def business_days_later(hours: BusinessHours, start: datetime, days: int) -> datetime:
    """The `days`-th following business day at `start`'s time of day (or its next opening)."""
    local = start.astimezone(hours.tz)
    if hours.always_open:
        return local + timedelta(days=days)  # wall-clock days in the agency's zone
    day, counted = local.date(), 0
    for _ in range(MAX_DAYS):
        day += timedelta(days=1)
        if hours.next_open(datetime.combine(day, time(0), hours.tz)).astimezone(hours.tz).date() == day:
            counted += 1
            if counted == days:
                return hours.next_open(datetime.combine(day, local.time(), hours.tz))
    return start + timedelta(days=days)


def due_at(step: FollowUp, lead: Lead, hours: BusinessHours, start: datetime) -> datetime:
    if step.clock == "business":
        return hours.add_minutes(lead.received_at, step.amount)
    if step.clock == "wall":
        return lead.received_at.astimezone(timezone.utc) + timedelta(minutes=step.amount)
    if step.clock == "days":
        return business_days_later(hours, start, int(step.amount))
    # calendar days on the agency's wall clock (aware + timedelta keeps the local time across DST)
    return hours.next_open(start.astimezone(hours.tz) + timedelta(days=step.amount))


def schedule(lead: Lead, config: AgencyConfig, hours: BusinessHours, journal: Journal, now: datetime) -> list[Due]:
    """The steps not yet done, with when each is due: all of them up to the first one after `now`."""
    start = hours.next_open(lead.received_at)
    out: list[Due] = []
    previous = start
    pending = [s for s in STEPS if not journal.done(f"{lead.lead_id}/{s.step}")]
    if pending:
        for step in STEPS:  # computed in order so that no step runs before the one above it
            if step.clock == "wall":  # the intro email keeps its own time and holds nothing back
                if step in pending:
                    out.append(_due(step, lead, config, due_at(step, lead, hours, start)))
                continue
            previous = max(previous, due_at(step, lead, hours, start))
            if step in pending:
                out.append(_due(step, lead, config, previous))
    month = 1
    while month <= MAX_DAYS:
        step = nurture(month)
        month += 1
        if journal.done(f"{lead.lead_id}/{step.step}"):
            continue
        item = _due(step, lead, config, due_at(step, lead, hours, start))
        out.append(item)
        if item.at > now:
            break
    return out


def _due(step: FollowUp, lead: Lead, config: AgencyConfig, at: datetime) -> Due:
    template = template_for(config, step.template)  # a row missing from an older sheet: the default's
    channel = (channel_of(template) if template else None) or "sms"
    if step.to == "lead" and channel == "sms":
        at = next_text_time(lead, at, config.settings)  # due, but quiet where the lead lives: wait
    return Due(step, f"{lead.lead_id}/{step.step}", at, channel)


def active(lead: Lead, journal: Journal) -> bool:
    """The sequence runs while the lead is New, owned, and has not opted out."""
    return untouched(lead) and bool(lead.assigned_to) and not journal.done(stop_key(lead))


def follow_ups(lead: Lead, config: AgencyConfig, hours: BusinessHours, journal: Journal,
               now: datetime) -> list[Action]:
    """The sequence steps due for `lead` at `now`. (Opt-out is checked when a step is performed:
    tick.handle_one_send stops the sequence instead of sending to a lead who texted STOP.)"""
    if not active(lead, journal):
        return []
    due = [d for d in schedule(lead, config, hours, journal, now) if d.at <= now]
    if not due:
        return []
    latest: dict[tuple[str, str], Due] = {}
    for d in due:
        latest[(d.follow_up.to, d.channel)] = d  # `due` is in order: the last one wins
    owner = config.producer(lead.assigned_to)
    actions = []
    for d in due:
        step = d.follow_up
        newest = latest[(step.to, d.channel)]
        if newest is not d:  # the tick was down: only the newest of the same kind is sent
            actions.append(Action(d.key, lead.lead_id, step.step, "skip",
                                  f"{step.name} skipped: {newest.follow_up.name} is due too", "follow-up skipped"))
            continue
        recipient = owner if step.to == "owner" else None
        messages = [] if step.to == "owner" and owner is None else compose(
            d.key, step.template, lead, config, to_producer=recipient, owner=owner)
        whom = lead.assigned_to if step.to == "owner" else "the lead"
        reason = f"{step.name} to {whom} (due {d.at.astimezone(config.settings.tz):%a %b %d %H:%M})"
        if not messages:
            reason += "; nothing to send (no template or no address)"
        actions.append(Action(d.key, lead.lead_id, step.step, "send", reason, "follow-up",
                              messages=tuple(messages)))
    return actions


def next_follow_up(lead: Lead, config: AgencyConfig, hours: BusinessHours, journal: Journal,
                   now: datetime) -> datetime | None:
    """When the sequence next does something for this lead (None once it has stopped)."""
    if not active(lead, journal):
        return None
    times = [d.at for d in schedule(lead, config, hours, journal, now)]
    return min(times) if times else None
