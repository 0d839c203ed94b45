"""Optional CAPTCHA on the public form: Cloudflare Turnstile, hCaptcha or Google reCAPTCHA.

The browser widget puts a token in the post (cf-turnstile-response, h-captcha-response or
g-recaptcha-response); we ask the provider's siteverify endpoint whether it is good. The
three providers share one protocol: POST secret, response, remoteip -> {"success": bool}.
A vendor with an API key is never asked for one. When the provider cannot be reached the
post is let through (and logged): losing a real lead to someone else's outage is worse than
one unverified post, and the rate limits still hold.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests

log = logging.getLogger(__name__)

PROVIDERS = {  # name -> (siteverify URL, the form field the widget fills, the widget's script)
    "turnstile": ("https://challenges.cloudflare.com/turnstile/v0/siteverify", "cf-turnstile-response",
                  "https://challenges.cloudflare.com/turnstile/v0/api.js", "cf-turnstile"),
    "hcaptcha": ("https://api.hcaptcha.com/siteverify", "h-captcha-response", "https://js.hcaptcha.com/1/api.js",
                 "h-captcha"),
    "recaptcha": ("https://www.google.com/recaptcha/api/siteverify", "g-recaptcha-response",
                  "https://www.google.com/recaptcha/api.js", "g-recaptcha"),
}
TOKEN_FIELDS = tuple(p[1] for p in PROVIDERS.values())


@dataclass(frozen=True)
class Captcha:
    provider: str
    secret: str
    site_key: str = ""
    verify_url: str = ""  # override for tests and emulators; default the provider's
    timeout: float = 5.0

    @classmethod
    def from_env(cls, env) -> "Captcha | None":
        """LEADROUTER_CAPTCHA (turnstile / hcaptcha / recaptcha) with LEADROUTER_CAPTCHA_SECRET; else None."""
        provider = env.get("LEADROUTER_CAPTCHA", "").strip().lower()
        if not provider or provider in ("none", "off"):
            return None
        if provider not in PROVIDERS:
            raise ValueError(f"LEADROUTER_CAPTCHA must be one of {', '.join(PROVIDERS)} (got {provider!r})")
        return cls(provider, env.get("LEADROUTER_CAPTCHA_SECRET", ""), env.get("LEADROUTER_CAPTCHA_SITE_KEY", ""),
                   env.get("LEADROUTER_CAPTCHA_VERIFY_URL", ""))

    @property
    def field(self) -> str:
        return PROVIDERS[self.provider][1]

    @property
    def script(self) -> str:
        return PROVIDERS[self.provider][2]

    @property
    def widget_class(self) -> str:
        return PROVIDERS[self.provider][3]

    def problem(self, payload: Any, remote_ip: str) -> str:
        """'' when the post's token is good (or the provider is unreachable); else what is wrong."""
        token = payload.get(self.field, "") if isinstance(payload, dict) else ""
        if not isinstance(token, str) or not token.strip():
            return "please complete the CAPTCHA check"
        try:
            answer = requests.post(self.verify_url or PROVIDERS[self.provider][0], timeout=self.timeout,
                                   data={"secret": self.secret, "response": token.strip(), "remoteip": remote_ip})
            answer.raise_for_status()
            ok = answer.json().get("success") is True
        except (requests.RequestException, ValueError, AttributeError) as exc:
            log.warning("CAPTCHA provider %s unreachable (%s); post accepted unverified", self.provider,
                        type(exc).__name__)
            return ""
        return "" if ok else "the CAPTCHA check failed; please try again"


def without_tokens(payload: Any) -> Any:
    """The payload without CAPTCHA tokens (they are not the lead's words and must not reach Notes)."""
    if isinstance(payload, dict):
        return {k: v for k, v in payload.items() if k not in TOKEN_FIELDS}
    return payload
