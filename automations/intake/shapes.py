"""Builders' envelopes unwrapped before mapping, so every builder ends as {label: answer}.

Each function takes what one builder sends and returns plain {question or key: answer}
(answers may still be lists or nested dicts for `payload.flatten`). Shapes are recognised by
their own markers (Jotform's `rawRequest`, Typeform's `form_response`, Meta's `field_data`,
Google's `namedValues`, HubSpot's `properties`, Elementor's `form`/`fields`/`meta`), never by
a header a relay could drop.
"""
from __future__ import annotations

import html
import json
import re
from typing import Any, Mapping

from .meaning import date_parts

_JOTFORM_ANSWER = re.compile(r"^q\d+_")
_JOTFORM_KEEP = ("formID", "formTitle", "submissionID", "ip")


def reshape(payload: Any) -> Any:
    """The payload with its builder's envelope removed (unknown shapes are returned as they are)."""
    if isinstance(payload, list) and len(payload) == 1 and isinstance(payload[0], Mapping):
        payload = payload[0]  # Zapier / Make "wrap in array"
    if not isinstance(payload, Mapping):
        return payload
    if isinstance(payload.get("rawRequest"), str):
        payload = jotform(payload)
    elif isinstance(payload.get("form_response"), Mapping):
        payload = typeform(payload)
    elif isinstance(payload.get("field_data"), list):
        payload = meta_lead(payload)
    elif isinstance(payload.get("namedValues"), Mapping):
        payload = google_named_values(payload)
    elif isinstance(payload.get("properties"), Mapping) and ("objectId" in payload or "vid" in payload
                                                             or "portalId" in payload or "portal-id" in payload):
        payload = hubspot(payload)
    elif isinstance(payload.get("fields"), Mapping) and isinstance(payload.get("form"), Mapping):
        payload = elementor(payload)
    return collapse_dates(payload)


def jotform(payload: Mapping) -> dict[str, Any]:
    """Jotform: the answers are in `rawRequest` (a JSON string) under q<N>_<name>; everything else
    in the multipart body is the platform's (`pretty` is display text, `type` is 'WEB')."""
    try:
        raw = json.loads(payload["rawRequest"])
    except ValueError:
        raw = {}
    out: dict[str, Any] = {k: payload[k] for k in _JOTFORM_KEEP if k in payload}
    pretty = str(payload.get("pretty") or "")
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            if not _JOTFORM_ANSWER.match(str(key)):
                continue
            if isinstance(value, Mapping) and "full" in value:  # phone: {"full": "(201) 555-0142"}
                value = value["full"]
            elif isinstance(value, Mapping) and {"area", "phone"} <= value.keys():
                value = f"{value.get('area', '')} {value.get('phone', '')}".strip()
            name = _JOTFORM_ANSWER.sub("", str(key))
            out[_unique(out, _pretty_label(pretty, name, value))] = value
    return out


def _pretty_label(pretty: str, name: str, value: Any) -> str:
    """Jotform names a key by the first words of its question ('whatDo'); the full question is in
    `pretty` ('What do you need covered?:Renters insurance, ...'). The label whose answer is this
    value there, else the key's own name."""
    if not isinstance(value, str) or not value.strip():
        return name
    shown = html.unescape(value)
    at = pretty.find(":" + shown)
    while at > 0:
        end = at + 1 + len(shown)
        if end == len(pretty) or pretty.startswith(", ", end):
            start = pretty.rfind(", ", 0, at)
            label = pretty[start + 2 if start >= 0 else 0:at].strip()
            return label or name
        at = pretty.find(":" + shown, at + 1)
    return name


_TYPEFORM_VALUE = ("email", "phone_number", "text", "number", "date", "boolean", "url", "file_url")


def typeform(payload: Mapping) -> dict[str, Any]:
    """Typeform: answers[] joined to definition.fields[] by id; a readable `ref` (set by the
    form's author) names the field, else the question's title does. Hidden fields (UTM) kept."""
    response = payload["form_response"]
    definition = response.get("definition") if isinstance(response.get("definition"), Mapping) else {}
    titles: dict[str, str] = {}
    for field in definition.get("fields") or ():
        if isinstance(field, Mapping):
            for key in ("id", "ref"):
                if field.get(key):
                    titles[str(field[key])] = str(field.get("title") or "")
    out: dict[str, Any] = {"form_id": response.get("form_id") or definition.get("id") or "",
                           "form_name": definition.get("title") or ""}
    for answer in response.get("answers") or ():
        if not isinstance(answer, Mapping) or not isinstance(answer.get("field"), Mapping):
            continue
        field = answer["field"]
        ref, fid = str(field.get("ref") or ""), str(field.get("id") or "")
        label = ref if _readable(ref) else titles.get(fid) or titles.get(ref) or ref or fid
        kind = answer.get("type")
        value: Any = answer.get(kind) if isinstance(kind, str) else None
        if kind == "choice" and isinstance(value, Mapping):
            value = value.get("label") or value.get("other")
        elif kind == "choices" and isinstance(value, Mapping):
            value = list(value.get("labels") or []) + ([value["other"]] if value.get("other") else [])
        elif value is None:
            value = next((answer[k] for k in _TYPEFORM_VALUE if k in answer), None)
        if value is not None:
            out[_unique(out, label)] = value
    hidden = response.get("hidden")
    if isinstance(hidden, Mapping):
        for key, value in hidden.items():
            out[_unique(out, str(key))] = value
    return out


def _readable(ref: str) -> bool:
    """A ref the author named ('email', 'zip_code'), not Typeform's generated uuid."""
    return bool(ref) and not re.fullmatch(r"[0-9A-Za-z-]{20,}|(?=.*[0-9])[A-Za-z0-9]{12}", ref)


def meta_lead(payload: Mapping) -> dict[str, Any]:
    """Meta Lead Ads lead object: field_data [{name, values}], names the lower-cased question."""
    out: dict[str, Any] = {k: payload[k] for k in ("form_id", "platform", "created_time") if k in payload}
    for item in payload["field_data"]:
        if isinstance(item, Mapping) and item.get("name"):
            values = item.get("values")
            out[_unique(out, str(item["name"]))] = values if isinstance(values, list) else [values]
    for item in payload.get("custom_disclaimer_responses") or ():
        if isinstance(item, Mapping) and item.get("is_checked") not in (None, "", False, "0", "false"):
            out["consent"] = "yes (Meta lead form disclaimer " + str(item.get("checkbox_key") or "") + ")"
    return out


def google_named_values(payload: Mapping) -> dict[str, Any]:
    """Google Forms via an Apps Script sheet trigger: e.namedValues, every answer a list."""
    out = dict(payload["namedValues"])
    out.pop("Timestamp", None)
    for key in ("form_id", "formId", "form_name"):
        if key in payload:
            out[key] = payload[key]
    return out


def hubspot(payload: Mapping) -> dict[str, Any]:
    """HubSpot workflow webhook: properties as {name: {value, timestamp, source ...}} or {name: value}."""
    out: dict[str, Any] = {}
    for name, value in payload["properties"].items():
        if isinstance(value, Mapping):
            value = value.get("value")
        if value not in (None, ""):
            out[str(name)] = value
    return out


def elementor(payload: Mapping) -> dict[str, Any]:
    """Elementor Pro with "Advanced Data": form[id|name], fields[<id>][title|value ...], meta[...]."""
    form = payload["form"]
    out: dict[str, Any] = {"form_id": form.get("id") or "", "form_name": form.get("name") or ""}
    for key, field in payload["fields"].items():
        if isinstance(field, Mapping):
            out[_unique(out, str(key))] = field
    meta = payload.get("meta")
    if isinstance(meta, Mapping):
        for key in ("page_url", "remote_ip"):
            item = meta.get(key)
            if isinstance(item, Mapping) and item.get("value"):
                out[key] = item["value"]
    return out


def collapse_dates(node: Any) -> Any:
    """Dates sent in parts ({month, day, year}, {value, unix}) become one value; empty parts vanish."""
    if isinstance(node, Mapping):
        joined = date_parts(node) if len(node) <= 4 else None
        if joined is not None:
            return joined
        return {k: collapse_dates(v) for k, v in node.items()}
    if isinstance(node, list):
        return [collapse_dates(v) for v in node]
    return node


def _unique(out: Mapping[str, Any], label: str) -> str:
    if label not in out:
        return label
    n = 2
    while f"{label} ({n})" in out:
        n += 1
    return f"{label} ({n})"
