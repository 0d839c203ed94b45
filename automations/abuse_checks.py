"""`leadrouter check`, the abuse part: a public site that texts phones needs a limit or a CAPTCHA,
the limits must be readable, and the dashboard's token must be long enough to guess at no rate."""
from __future__ import annotations

from automations.checks import Problem
from automations.config import AgencyConfig
from automations.rate_limits import FORM_POSTS_PER_MINUTE, rate_problems, rate_setting

MIN_DASHBOARD_TOKEN = 20  # characters: ~120 bits from `secrets.token_urlsafe(16)`; far past any throttled guessing


def check_abuse(config: AgencyConfig, *, public_url: str, captcha: bool, dashboard_token: str = "") -> list[Problem]:
    problems = [Problem("warning", "Settings", message) for message in rate_problems(config.settings)]
    if public_url and not captcha and rate_setting(config.settings, FORM_POSTS_PER_MINUTE) <= 0:
        problems.append(Problem("warning", "Settings", f"the form at {public_url} is public and has no limit "
                                f"({FORM_POSTS_PER_MINUTE} is off) and no CAPTCHA (LEADROUTER_CAPTCHA): anyone can "
                                "make it text strangers; set a limit such as 20"))
    if dashboard_token and len(dashboard_token) < MIN_DASHBOARD_TOKEN:
        problems.append(Problem("warning", "environment", f"LEADROUTER_DASHBOARD_TOKEN is {len(dashboard_token)} "
                                f"characters; use at least {MIN_DASHBOARD_TOKEN} (e.g. python -c \"import secrets; "
                                "print(secrets.token_urlsafe(24))\")"))
    return problems
