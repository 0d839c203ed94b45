"""The workbook's tabs and columns, defined once as data.

Every backend (SQL, Google Sheets, xlsx), `leadrouter init`, validation and export
read this module, so a column is renamed or added in exactly one place. A column has
the header people see in the sheet, the snake_case key code and JSON use, a kind
(how the value is parsed and written) and who edits it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "int", "number", "money", "percent", "date", "datetime", "bool", "choice"]
Editor = Literal["people", "service"]

STATUSES = ("New", "Contacted", "Quoted", "Bound", "Lost")
OPEN_STATUSES = ("New", "Contacted", "Quoted")
ROLES = ("Producer", "CSR", "Manager")
SOURCE_TYPES = ("Paid", "Organic", "Referral", "Vendor", "Carrier", "Walk-in")
ROUTING_MODELS = ("round_robin", "territory", "weighted")


def snake(header: str) -> str:
    """'Max Active Leads' -> 'max_active_leads'; 'Weight (%)' -> 'weight'."""
    out = "".join(c.lower() if c.isalnum() else " " for c in header.split("(")[0])
    return "_".join(out.split())


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"
    editor: Editor = "people"
    note: str = ""
    choices: tuple[str, ...] = ()
    key: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", snake(self.header))


@dataclass(frozen=True)
class Tab:
    name: str
    columns: tuple[Column, ...]
    note: str = ""
    key_column: str | None = None  # header that identifies a row (rows are found by it)
    append_only: bool = False
    config: bool = True  # read as configuration (cached between ticks on Sheets)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        index = {c.key: c for c in self.columns} | {c.header: c for c in self.columns}
        object.__setattr__(self, "_index", index)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def column(self, key_or_header: str) -> Column:
        try:
            return self._index[key_or_header]
        except KeyError:
            raise KeyError(f"{self.name} has no column {key_or_header!r}") from None


def _c(header: str, kind: Kind = "text", editor: Editor = "people", note: str = "", choices=()) -> Column:
    return Column(header, kind, editor, note, tuple(choices))


PRODUCERS = Tab("Producers", (
    _c("Name", note="How the person is named everywhere else (Territories, Assigned To)."),
    _c("Role", "choice", note="Producer gets new leads; CSR gets existing clients; Manager gets alerts.",
       choices=ROLES),
    _c("Email", note="Where lead notifications and warnings are emailed."),
    _c("Mobile", note="Texts go here; replies from this number are recognised as this person."),
    _c("Lines", note="Lines written, comma separated: Personal, Commercial, Life ..."),
    _c("Active", "bool", note="Y gets leads, N never does."),
    _c("Out Until", "date", note="Away until this date (inclusive); leads go to others meanwhile."),
    _c("Max Active Leads", "int", note="Cap on open leads (New, Contacted, Quoted). Blank = no cap."),
    _c("Licensed States", note="Two-letter states, comma separated. Blank = every state."),
    _c("Push Webhook", note="Optional Slack/Teams/ntfy URL for the 5-minute reminder."),
    _c("Backup", note="Who takes this person's leads when they are out."),
    _c("After Hours Calls", "bool", note="Y: call connect may ring this phone outside business hours. Blank = N."),
), note="Everyone who can own a lead or receive alerts.", key_column="Name")

TERRITORIES = Tab("Territories", (
    _c("Territory", note="A name for the area."),
    _c("ZIP From", note="First ZIP of the range (inclusive)."),
    _c("ZIP To", note="Last ZIP of the range (inclusive)."),
    _c("Producer", note="Owner of leads in this range."),
    _c("Backup", note="Takes the range when the producer is unavailable."),
    _c("Line Focus", note="Lines this territory's producer focuses on; breaks ties between overlapping ranges."),
), note="ZIP ranges for territory routing.", key_column="Territory")

WEIGHTS = Tab("Weights", (
    _c("Factor", note="capacity, specialization, close_rate, response_time, or a band row."),
    _c("Weight", "number", note="Percent; the four factor weights must sum to 100."),
    _c("Bands", note="For capacity and response_time: 'limit:score' pairs, e.g. 5:10, 10:8 ..."),
), note="Weighted routing: factor weights and scoring bands.", key_column="Factor")

SOURCES = Tab("Sources", (
    _c("Source", note="Name used in reports."),
    _c("Type", "choice", choices=SOURCE_TYPES, note="Paid, Organic, Referral, Vendor, Carrier or Walk-in."),
    _c("Cost Per Lead", "money", note="What one lead costs."),
    _c("Monthly Spend", "money", note="Fixed monthly cost (ads, subscriptions)."),
    _c("Commission Rate", "percent", note="Share of premium earned as commission, e.g. 12%."),
    _c("Priority", "choice", choices=("High", "Normal"), note="High halves the escalation thresholds."),
    _c("Aliases", note="utm_source / 'how did you hear' values that mean this source, comma separated."),
), note="Where leads come from, what they cost.", key_column="Source")

LINES = Tab("Lines", (
    _c("Insurance Type", note="What the form asks: Auto, Home, BOP ..."),
    _c("Line", note="Personal, Commercial, Life ..."),
    _c("Related Lines", note="Lines close enough for a 'related line' match, comma separated."),
    _c("Aliases", note="Answers that mean this insurance type, comma separated: Homeowners, House ..."),
), note="Insurance type to line of business.", key_column="Insurance Type")

CLIENTS = Tab("Clients", (
    _c("Name"), _c("Email"), _c("Phone"),
    _c("CSR", note="Existing clients' leads go to this person."),
), note="Existing clients (imported from the AMS).", key_column="Email")

TEMPLATES = Tab("Templates", (
    _c("Key", note="Which message this is (used by the service)."),
    _c("Channel", "choice", choices=("sms", "email"), note="sms or email."),
    _c("Subject", note="Email subject."),
    _c("Body", note="Text with [Name], [Producer], [Agency], [Number], [Lead], [Minutes] placeholders."),
), note="Every text and email the service sends.", key_column="Key")

SETTINGS = Tab("Settings", (
    _c("Setting"), _c("Value"),
), note="One row per setting.", key_column="Setting")

FORM_FIELDS = Tab("Form Fields", (
    _c("Key", note="The field name or id your form builder sends, e.g. 1.3"),
    _c("Field", note="Our field: first_name, last_name, email, phone, zip, insurance_type ..."),
    _c("Form", note="Only for this form (its id or name as the form sends it); blank = every form."),
), note="Map a form builder's own field ids to ours.", key_column="Key")

LEADS = Tab("Leads", (
    _c("Lead ID", editor="service", note="Unique id; replies may name its number, e.g. 'C 1042'."),
    _c("Received At", "datetime", "service"),
    _c("First Name"), _c("Last Name"), _c("Email"), _c("Phone"),
    _c("ZIP"), _c("County", editor="service"), _c("State", editor="service"),
    _c("Time Zone", editor="service"),
    _c("Insurance Type"), _c("Line", editor="service"),
    _c("Current Carrier"), _c("Policy Expiration"),
    _c("Source"), _c("Priority", editor="service"),
    _c("Assigned To", editor="service"), _c("Assigned At", "datetime", "service"),
    _c("Routing Reason", editor="service"),
    _c("Status", "choice", note="New, Contacted, Quoted, Bound or Lost. Change it when you reach the lead.",
       choices=STATUSES),
    _c("First Contact At", "datetime", "service"),
    _c("Response Minutes", "number", "service", note="Business minutes from assignment to first contact."),
    _c("Attempts", "int", note="Call attempts made."),
    _c("Premium", "money", note="Annual premium quoted or bound."),
    _c("Quoted At", "datetime", "service"),
    _c("Bound At", "datetime", "service"),
    _c("Lost Reason"),
    _c("Reassigned From", editor="service"),
    _c("Escalation", editor="service", note="Last escalation step reached."),
    _c("Next Follow-up", "datetime", "service"),
    _c("Consent", editor="service"),
    _c("Notes"),
    _c("How Heard", editor="service", note="The lead's own answer to 'how did you hear about us', as typed."),
    _c("Consent At", "datetime", "service", note="When the lead gave consent (the post's time)."),
    _c("Consent IP", editor="service", note="The IP address the consent was given from."),
    _c("Consent Page URL", editor="service", note="The page the consent was given on."),
    _c("Consent Certificate URL", editor="service", note="A TrustedForm (or similar) certificate of the consent."),
    _c("AMS ID", editor="service", note="The lead's record in the agency management system (Settings: AMS)."),
), note="One row per lead.", key_column="Lead ID", config=False)

ACTIVITY = Tab("Activity", (
    _c("Time", "datetime", "service"),
    _c("Lead ID", editor="service"),
    _c("Event", editor="service"),
    _c("Detail", editor="service"),
    _c("Key", editor="service", note="Idempotency key: the same key is never acted on twice."),
), note="Append-only audit trail.", append_only=True, config=False)

# Refused submissions, kept whole so nobody's lead is lost at the door. Not a sheet tab: a raw
# body can outgrow a cell (50,000 characters) and every tick would read it (see issue 12 notes).
REJECTED = Tab("Rejected", (
    _c("Rejected ID", editor="service"),
    _c("Received At", "datetime", "service"),
    _c("Source", editor="service", note="The vendor named by the post's API key; blank = the public form."),
    _c("Form", editor="service"),
    _c("Content Type", editor="service"),
    _c("Query", editor="service", note="The URL's query string (product=, utm_source= ...)."),
    _c("Referer", editor="service"),
    _c("Client IP", editor="service"),
    _c("Errors", editor="service"),
    _c("Body", editor="service", note="The body exactly as posted (bytes other than UTF-8 as \\xNN)."),
    _c("Replayed As", editor="service", note="The lead it became on `leadrouter replay`."),
), note="Submissions refused at intake.", key_column="Rejected ID", append_only=True, config=False)

TABS: dict[str, Tab] = {t.name: t for t in (
    PRODUCERS, TERRITORIES, WEIGHTS, SOURCES, LINES, CLIENTS, TEMPLATES, SETTINGS, FORM_FIELDS, LEADS, ACTIVITY,
)}
CONFIG_TABS = [t for t in TABS.values() if t.config]
