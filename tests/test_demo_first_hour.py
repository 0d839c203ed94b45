"""`leadrouter demo` as an owner runs it: the dashboard link is printed (and stays the same), emails are shown whole."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import re
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from automations.notify.channels.console import ConsoleNotifier
from automations.ports import Message
from tests.test_demo_subprocess import LEADROUTER, _free_port


DASHBOARD_LINE = re.compile(r"^Dashboard: (\S+/dashboard)\s+\(sign in with the token (\S+)\)")


def signed_in_page(url: str, token: str) -> str:
    """Sign in as a manager does (the page's form posts the token once), then read the dashboard."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    form = urllib.parse.urlencode({"token": token}).encode()
    with opener.open(url + "/sign-in", data=form, timeout=10) as answer:  # 303 to /dashboard, followed
        assert answer.status == 200
        return answer.read().decode()


def start_demo(tmp_path) -> tuple[str, list[str]]:
    """Run the demo until it prints its dashboard link and token; the token and what it printed, then stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADROUTER_", "TWILIO_", "SMTP_"))}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen([LEADROUTER, "demo", "--port", str(_free_port())], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    lines, url = [], ""
    try:
        for line in proc.stdout:
            lines.append(line)
            found = DASHBOARD_LINE.match(line)
            if found:
                url = found.group(2)
                assert "Producers (today)" in signed_in_page(found.group(1), url)
                break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        proc.stdout.close()
    return url, lines


def test_demo_prints_a_working_dashboard_link_and_the_same_one_on_the_next_start(tmp_path):
    first, lines = start_demo(tmp_path)
    assert len(first) >= 20, "".join(lines)  # a printed, working token, long enough for `check`
    second, _ = start_demo(tmp_path)
    assert second == first


def test_the_console_shows_the_whole_email_body(caplog):
    body = "Hi Maria,\n\nThanks for your Auto quote request.\nSarah M. will call you from (201) 555-0111.\n\nOur Agency"
    with caplog.at_level(logging.INFO, logger="leadrouter.console"):
        ConsoleNotifier().send(Message(key="k", channel="email", to="maria@example.com", body=body, subject="Hi",
                                       lead_id="L-1001", recipient="lead", template="lead_intro_email"))
    assert "Thanks for your Auto quote request." in caplog.text and "Our Agency" in caplog.text
    assert "(201) 555-0111" not in caplog.text  # still masked
