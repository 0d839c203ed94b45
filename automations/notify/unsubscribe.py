"""Unsubscribe links: a signed token that names the lead, never the address (no email in access logs).

The token is signed with the service's secret key, so a link cannot be forged or pointed at
another lead; it does not expire, as a link in an old email must still work.
"""
from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "unsubscribe"


def unsubscribe_link(base_url: str, secret: str, lead_id: str) -> str:
    """The lead's one-click link; '' without a public base URL (the email then waits)."""
    if not base_url:
        return ""
    return f"{base_url}/unsubscribe/{URLSafeSerializer(secret, salt=SALT).dumps({'lead': lead_id})}"


def unsubscribed_lead(secret: str, token: str) -> str | None:
    """The Lead ID a token names, or None for a token we did not sign."""
    try:
        return str(URLSafeSerializer(secret, salt=SALT).loads(token)["lead"])
    except (BadSignature, KeyError, TypeError):
        return None
