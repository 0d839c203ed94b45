"""Meta Lead Ads' real-time `leadgen` webhook: it carries ids only, the lead is fetched from the
Graph API with the page access token (META_PAGE_ACCESS_TOKEN; endpoint LEADROUTER_META_GRAPH_API,
default https://graph.facebook.com). Without a token, or when Graph does not answer, the post is
kept in Rejected saying what is missing: never lost, never a 5xx."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping

GRAPH_VERSION = "v21.0"
DEFAULT_GRAPH = "https://graph.facebook.com"


@dataclass(frozen=True)
class LeadgenId:
    leadgen_id: str
    form_id: str = ""
    page_id: str = ""


def leadgen_ids(payload: Any) -> list[LeadgenId]:
    """The leads a `{"object": "page", "entry": [{"changes": [{"field": "leadgen", ...}]}]}` post names."""
    if not isinstance(payload, Mapping) or payload.get("object") != "page":
        return []
    out = []
    for entry in payload.get("entry") or ():
        for change in (entry.get("changes") or ()) if isinstance(entry, Mapping) else ():
            value = change.get("value") if isinstance(change, Mapping) else None
            if isinstance(change, Mapping) and change.get("field") == "leadgen" and isinstance(value, Mapping) \
                    and value.get("leadgen_id"):
                out.append(LeadgenId(str(value["leadgen_id"]), str(value.get("form_id") or ""),
                                     str(value.get("page_id") or "")))
    return out


class GraphError(Exception):
    """The Graph API did not give the lead (the message says why, without the token)."""


def fetch_lead(leadgen_id: str, token: str, base_url: str = DEFAULT_GRAPH, timeout: float = 10.0) -> dict:
    """GET /<version>/<leadgen id>: the lead object (field_data ...)."""
    query = urllib.parse.urlencode({"access_token": token,
                                    "fields": "id,created_time,form_id,ad_id,field_data,custom_disclaimer_responses,"
                                              "platform"})
    url = f"{base_url.rstrip('/')}/{GRAPH_VERSION}/{urllib.parse.quote(leadgen_id)}?{query}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - https or a test's loopback
            data = json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise GraphError(f"Graph API answered {exc.code} for lead {leadgen_id}") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise GraphError(f"Graph API unreachable for lead {leadgen_id} ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("field_data"), list):
        raise GraphError(f"Graph API gave no field_data for lead {leadgen_id}")
    return data
