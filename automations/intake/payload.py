"""Turn whatever a form builder posts into our field names.

Form builders disagree on everything: `first_name` vs `fname` vs "First Name", a single
"Your Name", PHP-style `fields[email][value]`, JSON envelopes ({"data": {...}},
Typeform's answers list), bare ids such as Gravity Forms' `1.3`. This module flattens the
payload to (name, value) pairs and maps each name to one of our fields: first through the
owner's Form Fields tab, then through the alias table. Anything unrecognised is kept in
Notes, so no form data is lost.
"""
from __future__ import annotations

from functools import lru_cache

import re
from typing import Any, Iterable, Iterator, Mapping

from automations.errors import InvalidLead
from .meaning import clean_value, field_of_label

FIELDS = ("first_name", "last_name", "email", "phone", "zip", "insurance_type", "current_carrier",
          "policy_expiration", "source", "how_heard", "consent", "notes")

ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "fname", "firstname", "first", "given name", "name first", "your first name",
                   "forename"),
    "last_name": ("last name", "lname", "lastname", "last", "surname", "family name", "name last",
                  "your last name"),
    "full_name": ("name", "full name", "fullname", "your name", "contact name", "your full name"),
    "email": ("email", "e mail", "email address", "your email", "emailaddress", "mail", "your email address"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "cell", "your phone", "mobile phone",
              "cell phone", "phone no", "best phone", "contact number", "mobilephone", "your tel", "phone home",
              "primary phone", "phonenumber"),
    "zip": ("zip", "zip code", "zipcode", "postal code", "postcode", "postal", "your zip", "zip postal code",
            "zip postal"),
    "insurance_type": ("insurance type", "type", "coverage", "coverage type", "product", "insurance",
                       "what type of insurance", "policy type", "type of insurance", "line of business",
                       "what insurance do you need", "interested in", "type of coverage", "insurance product",
                       "requested policy type", "policy"),
    "current_carrier": ("current carrier", "carrier", "current insurer", "current insurance", "insurer",
                        "current company", "current insurance company", "insurance company"),
    "policy_expiration": ("policy expiration", "expiration", "expiration date", "renewal date",
                          "policy expires", "x date", "policy expiration date", "renewal", "xdate"),
    "source": ("source", "utm source", "referral source", "lead source", "utmsource"),
    "how_heard": ("how did you hear", "how did you hear about us", "heard from", "hear about us", "referred by",
                  "how heard"),
    "consent": ("consent", "tcpa", "tcpa consent", "agree", "opt in", "i agree", "sms consent", "tcpa opt in",
                "optin", "tcpa optin", "acceptance"),
    "consent_text": ("consent text", "tcpa consent text", "tcpa text", "consent language", "tcpa language",
                     "tcpa disclosure", "disclosure"),
    "consent_ip": ("ip", "ip address", "remote ip", "client ip", "user ip", "ipaddress"),
    "consent_page_url": ("page url", "source url", "landing page url", "landing page", "page", "url",
                         "referrer url", "form url", "pageurl"),
    "consent_certificate_url": ("xx trusted form cert url", "trusted form cert url", "trustedform cert url",
                                "trusted form url", "trustedform url", "trustedform certificate url",
                                "certificate url", "trusted form certificate url"),
    "jornaya": ("universal leadid", "leadid token", "jornaya lead id", "jornaya leadid", "lead id token",
                "leadid", "jornaya"),
    "utm_campaign": ("utm campaign",),
    "utm_medium": ("utm medium",),
    "form_id": ("form id", "formid", "form"),
    "form_name": ("form name", "form title", "formtitle"),
    "notes": ("notes", "message", "comments", "comment", "details", "anything else", "additional info",
              "your message"),
    "website": ("website",),  # the honeypot
}
# metadata builders send beside the answers (Gravity's entry, Jotform's submission): not the lead's words
IGNORED = {"submit", "g recaptcha response", "csrf token", "utm term", "utm content", "gclid", "fbclid",
           "api key", "action", "nonce", "referrer", "id", "post id", "date created", "date updated", "is starred",
           "is read", "user agent", "created by", "transaction id", "transaction type", "is fulfilled",
           "payment status", "payment date", "payment amount", "payment method", "currency", "submission id",
           "timestamp", "created time", "platform", "status", "source id", "entry id",
           "remote ip address", "pretty", "submitted at", "landed at", "token", "event id", "event type"}
# our internal fields that are evidence or routing hints, never written to Notes when unmapped
EVIDENCE = ("consent_text", "consent_ip", "consent_page_url", "consent_certificate_url", "jornaya", "utm_campaign",
            "utm_medium", "form_id", "form_name")

MAX_DEPTH = 8
MAX_FIELDS = 200
MAX_VALUE = 5000

_UNKNOWN = "?"  # a Form Fields target that names none of our fields
_CONTACT_FIELDS = {"first_name", "last_name", "full_name", "email", "phone", "zip"}
_LABEL_KEYS = ("ref", "name", "label", "key", "id", "title", "question", "field")
_VALUE_KEYS = ("value", "answer", "text", "raw", "val")


@lru_cache(maxsize=8192)
def norm(name: str) -> str:
    """'First_Name', 'first-name', 'First Name:', 'firstName' -> 'first name'; 'input_1_3' -> '1.3'."""
    text = str(name).strip()
    gravity = re.fullmatch(r"(?:input_)?(\d+)(?:[._](\d+))?", text.lower())
    if gravity:
        return gravity.group(1) + (f".{gravity.group(2)}" if gravity.group(2) else "")
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


_ALIAS_INDEX = {norm(alias): field for field, aliases in ALIASES.items() for alias in (field, *aliases)}


def unbracket(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """PHP-style keys -> nested dicts: ('fields[email][value]', x) -> {'fields': {'email': {'value': x}}}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key) if "[" in key else [key]
        if not parts:
            continue
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if parts[-1] not in node:  # the first value of a repeated key wins
            node[parts[-1]] = value
    return root


def flatten(payload: Any, name: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """Yield (field name, text) leaves of any envelope shape."""
    if depth > MAX_DEPTH:
        raise InvalidLead({"body": f"nested more than {MAX_DEPTH} levels deep"}, status=422)
    if isinstance(payload, Mapping):
        # Never at the top: a form with fields named "name" and "text" is a form, not one answer.
        answer = _labelled_answer(payload) if depth else None
        if answer is not None:
            yield answer
            return
        wrapper = bool(name) and not _has_contact_keys(payload)  # {'email': {'value': x}}: x is the email
        for key, value in payload.items():
            key = str(key)
            if norm(key) in _VALUE_KEYS and wrapper:
                key = name
            yield from flatten(value, key, depth + 1)
    elif isinstance(payload, (list, tuple)):
        if all(not isinstance(v, (Mapping, list, tuple)) for v in payload):
            yield name, ", ".join(str(v) for v in payload if v is not None)
        else:
            for item in payload:
                yield from flatten(item, name, depth + 1)
    elif isinstance(payload, int) and not isinstance(payload, bool) and 0 < payload < 100_000 \
            and field_of(name) == "zip":
        yield name, str(payload).zfill(5)  # a JSON number: New Jersey's 07030 arrives as 7030
    elif payload is not None and name:
        yield name, payload if isinstance(payload, str) else _scalar(payload)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _labelled_answer(node: Mapping) -> tuple[str, str] | None:
    """{'name': 'email', 'value': 'x'} or Typeform's {'field': {'ref': ...}, 'type': 'email', 'email': 'x'}."""
    field = node.get("field")
    if isinstance(field, Mapping) and "type" in node:
        label = field.get("ref") or field.get("id") or ""
        kind = node.get("type")
        value = node.get(kind) if isinstance(kind, str) else None
        if isinstance(value, Mapping):  # Typeform choice: {"label": "Auto"}
            value = value.get("label") or value.get("other")
        if label and value is not None and not isinstance(value, (Mapping, list)):
            return str(label), _scalar(value) if not isinstance(value, str) else value
    keys = {norm(k): k for k in node}
    labels = [keys[k] for k in _LABEL_KEYS if k in keys and isinstance(node[keys[k]], str) and node[keys[k]]]
    # Elementor sends {id: 'field_1a2b', title: 'ZIP Code', value: ...}: the label that means something wins
    label_key = next((k for k in labels if field_of(node[k]) is not None), labels[0] if labels else None)
    value_key = next((keys[k] for k in _VALUE_KEYS if k in keys), None)
    # {"name": "Ann Lee", "email": ..., "text": "hi"} is a form in an envelope, not one answer
    if label_key and value_key and len(node) <= 6 and not _has_contact_keys(node, (label_key, value_key)):
        label, value = node[label_key], node[value_key]
        if isinstance(label, str) and not isinstance(value, (Mapping, list, tuple)) and value is not None:
            return label, value if isinstance(value, str) else _scalar(value)
    return None


@lru_cache(maxsize=8192)
def field_of(name: str) -> str | None:
    """Our field for a key or question: its alias ('Zip Code'), a CF7-style numbered key
    ('tel-123'), or the question's words ('When does your policy renew?')."""
    key = norm(name)
    field = _ALIAS_INDEX.get(key)
    if field is None and re.fullmatch(r".+ \d+", key):
        field = _ALIAS_INDEX.get(key.rsplit(" ", 1)[0])
    if field is None and key.startswith("your "):
        field = _ALIAS_INDEX.get(key[5:])
    return field or field_of_label(str(name))


def form_field_target(text: str) -> str | None:
    """The field a Form Fields row means: 'first_name', 'First Name' and 'fname' all mean first_name.

    None when it names none of ours (the honeypot is no target: mapping to it would drop real leads).
    """
    field = _ALIAS_INDEX.get(norm(text)) if str(text or "").strip() else None
    return None if field == "website" else field


def _has_contact_keys(node: Mapping, besides: tuple = ()) -> bool:
    """Whether a node names contact fields itself (email, phone, ...): then it is a form, not one answer."""
    return any(_ALIAS_INDEX.get(norm(k)) in _CONTACT_FIELDS for k in node if k not in besides)


def map_fields(pairs: Iterable[tuple[str, str]], form_fields: Mapping[str, str] = {},
               trace: list[tuple[str, str]] | None = None) -> dict[str, str]:
    """Our field -> value. `form_fields` is the owner's Form Fields tab ({their key: our field}),
    already narrowed to the form that posted (see forms.fields_for_form).

    A key mapped to a target we do not know is kept in Notes under its own name, never lost; so
    is an answer longer than MAX_VALUE (cut, with a marker). `trace` receives (key, where it went)
    for `leadrouter forms`.
    """
    custom = {norm(k): form_field_target(v) or _UNKNOWN for k, v in form_fields.items() if str(v or "").strip()}
    fields: dict[str, str] = {}
    extras: list[str] = []
    count = 0
    for name, value in pairs:
        count += 1
        if count > MAX_FIELDS:
            raise InvalidLead({"body": f"more than {MAX_FIELDS} fields"}, status=422)
        _require_text(name, value, custom)
        value = clean_value(value).strip()
        key = norm(name)
        field = custom.get(key) or field_of(name)
        if field == _UNKNOWN:
            field = None
        if len(value) > MAX_VALUE and field in (None, "notes", "current_carrier", "how_heard", "consent_text"):
            value, field = cut(value, MAX_VALUE), None  # a long answer is kept whole enough, in Notes
        if field is None:
            if key and value and key not in IGNORED:
                extras.append(f"{name}: {value}")
                _note(trace, name, "(unmapped, kept in Notes)")
            else:
                _note(trace, name, "(unmapped)" if key not in IGNORED else "(ignored)")
            continue
        _note(trace, name, field)
        if value and not fields.get(field):
            fields[field] = value
    if extras:
        fields["notes"] = "\n".join(filter(None, [fields.get("notes", ""), *extras]))
    return fields


def _note(trace: list[tuple[str, str]] | None, name: str, where: str) -> None:
    if trace is not None:
        trace.append((str(name), where))


def cut(text: str, limit: int) -> str:
    """Text cut to `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    kept = text[:limit - 60]
    return f"{kept}\n[... {len(text) - len(kept):,} more characters cut]"


def _require_text(name: str, value: str, custom: Mapping[str, str]) -> None:
    """Refuse a lone surrogate ('\\ud800', legal in JSON, not in UTF-8): no store could save it."""
    for text in (name, value):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
            raise InvalidLead({_field_name(shown, custom): "contains an invalid character (a lone UTF-16 "
                                                          "surrogate); send plain UTF-8 text"}, status=400) from None


def _field_name(name: str, custom: Mapping[str, str]) -> str:
    key = norm(name)
    field = custom.get(key) or _ALIAS_INDEX.get(key)
    return field if field and field != _UNKNOWN else str(name)
