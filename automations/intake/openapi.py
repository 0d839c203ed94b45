"""GET /openapi.json: the HTTP API as OpenAPI 3.1 (POST /leads, the health check, Twilio's webhooks).

Written by hand from what app.py answers, and kept honest by tests/test_openapi.py, which runs
schemathesis against the app (every documented status, content type and body is checked).
"""
from __future__ import annotations

from typing import Any

from automations.intake.validation import MAX_LENGTH

ERRORS = {"$ref": "#/components/schemas/Errors"}


def _error(description: str, **headers: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": ERRORS}}}
    if headers:
        answer["headers"] = headers
    return answer


def _lead_fields() -> dict[str, Any]:
    names = {"first_name": "First name", "last_name": "Last name", "email": "Email address",
             "phone": "Phone number (10 digits with area code, any format)", "zip": "5-digit ZIP or ZIP+4",
             "insurance_type": "Auto, Home, BOP ... (Lines tab, or its Aliases)",
             "current_carrier": "Current carrier", "policy_expiration": "Policy expiration date",
             "source": "utm_source or 'how did you hear about us' (attributed to a Sources row)",
             "consent": "The lead's consent to calls and texts", "notes": "Anything else"}
    props: dict[str, Any] = {k: {"type": "string", "description": v, **({"maxLength": MAX_LENGTH[k]} if k in MAX_LENGTH
                                                                          else {})} for k, v in names.items()}
    props["website"] = {"type": "string", "description": "Honeypot: leave empty (a public post that fills it is "
                                                         "dropped; a vendor's is the lead's website)"}
    props["cf-turnstile-response"] = {"type": "string", "description": "CAPTCHA token (when LEADROUTER_CAPTCHA is "
                                                                       "set); also h-captcha-response, g-recaptcha-response"}
    return props


def spec(base_url: str = "") -> dict[str, Any]:
    lead_form = {"type": "object", "properties": _lead_fields(), "additionalProperties": True,
                 "description": "Field names are forgiving: aliases (fname, 'Your Name', postal_code ...), PHP-style "
                                "bracket keys (fields[email][value]), builders' JSON envelopes and the Form Fields tab "
                                "are understood. Unknown fields go to Notes."}
    created = {"type": "object", "required": ["lead_id", "assigned_to", "routing_reason", "status"],
               "properties": {"lead_id": {"type": "string", "examples": ["L-1001"]}, "assigned_to": {"type": "string"},
                              "routing_reason": {"type": "string"}, "status": {"type": "string"}}}
    duplicate_public = {"type": "object", "required": ["lead_id", "duplicate"], "additionalProperties": False,
                        "properties": {"lead_id": {"type": "string"}, "duplicate": {"const": True}}}
    duplicate_vendor = {"allOf": [created, {"type": "object", "required": ["duplicate"],
                                            "properties": {"duplicate": {"const": True}}}]}
    form_body = {"schema": lead_form}
    retry_after = {"Retry-After": {"description": "Seconds until the limit's window ends",
                                   "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
    html = {"text/html": {"schema": {"type": "string"}}}
    twilio_form = {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "properties": {"From": {"type": "string"}, "Body": {"type": "string"},
                                         "MessageSid": {"type": "string"}, "MessageStatus": {"type": "string"},
                                         "ErrorCode": {"type": "string"}}}}}
    signature = {"name": "X-Twilio-Signature", "in": "header", "required": True, "schema": {"type": "string"},
                 "description": "Twilio's HMAC-SHA1 of the URL and form, with the account's auth token"}
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "leadrouter", "version": "1",
                 "description": "Lead distribution: every lead lands with exactly one owner within a second."},
        "paths": {
            "/leads": {"post": {
                "operationId": "postLead",
                "summary": "Submit a lead (a website form, a form builder or a vendor)",
                "description": "Public posts (no key) are limited per client address (Settings: Form Posts Per "
                               "Minute) and per phone/email (Form Posts Per Contact Per Hour); a vendor key has its "
                               "own limit (Vendor Posts Per Minute). Over a limit: 429, nothing stored.",
                "security": [{}, {"apiKey": []}, {"bearer": []}],
                "requestBody": {"required": True, "content": {
                    "application/json": form_body, "application/x-www-form-urlencoded": form_body,
                    "multipart/form-data": form_body, "text/plain": {"schema": {"type": "string"}}}},
                "responses": {
                    "201": {"description": "A new lead, stored and assigned",
                            "content": {"application/json": {"schema": created}, **html}},
                    "200": {"description": "A duplicate of a lead inside the Duplicate Window (attached to it), or a "
                                           "dropped honeypot post. Without a key only lead_id and duplicate.",
                            "content": {"application/json": {"schema": {"oneOf": [
                                duplicate_public, duplicate_vendor,
                                {"type": "object", "required": ["status"], "additionalProperties": False,
                                 "properties": {"status": {"const": "received"}}}]}}, **html}},
                    "202": {"description": "Stored locally while the store (Google Sheets) is unreachable; "
                                           "assigned and notified, written when it is back",
                            "content": {"application/json": {"schema": created}, **html}},
                    "400": _error("The body cannot be read (not UTF-8, not JSON, nested too deeply)"),
                    "401": _error("An unknown API key"),
                    "413": _error("Body over 1 MB"),
                    "415": _error("Unsupported content type"),
                    "422": {"description": "Invalid fields, named", "content": {"application/json": {"schema": ERRORS},
                                                                                **html}},
                    "429": _error("Over a rate limit; nothing stored", **retry_after),
                    "503": _error("The store is unavailable and there is no local copy to route from"),
                }}},
            "/healthz": {"get": {"operationId": "health", "summary": "Is the store reachable?", "responses": {
                "200": {"description": "Healthy", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}}}},
                "503": {"description": "The store is unreachable", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"status": {"const": "unavailable"},
                                                     "error": {"type": "string"}}}}}}}}},
            "/webhooks/twilio": {"post": {
                "operationId": "twilioInbound", "summary": "An SMS to our number (a producer's command or a lead's "
                                                           "reply), answered with TwiML",
                "parameters": [signature], "requestBody": {"required": True, "content": twilio_form},
                "responses": {"200": {"description": "TwiML", "content": {"text/xml": {"schema": {"type": "string"}}}},
                              "403": {"description": "Signature missing or wrong",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}}}},
            "/webhooks/twilio/status": {"post": {
                "operationId": "twilioStatus", "summary": "Twilio's delivery report for a text we sent",
                "parameters": [signature, {"name": "lead", "in": "query", "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": twilio_form},
                "responses": {"204": {"description": "Recorded"},
                              "403": {"description": "Signature missing or wrong",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {
            "schemas": {"Errors": {"type": "object", "required": ["errors"], "properties": {"errors": {
                "type": "object", "additionalProperties": {"type": "string"},
                "description": "field -> what is wrong with it"}}}},
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                           "description": "A vendor key from LEADROUTER_API_KEYS (name=key)"},
                                "bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    if base_url:
        doc["servers"] = [{"url": base_url}]
    return doc
