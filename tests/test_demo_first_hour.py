"""`leadrouter demo` as an owner runs it: the dashboard link is printed (and stays the same), emails are shown whole."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import urllib.request

from automations.notify.channels.console import ConsoleNotifier
from automations.ports import Message
from tests.test_demo_subprocess import LEADROUTER, _free_port


def start_demo(tmp_path) -> tuple[str, list[str]]:
    """Run the demo until it prints its dashboard link; the link and what it printed, then stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADROUTER_", "TWILIO_", "SMTP_"))}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen([LEADROUTER, "demo", "--port", str(_free_port())], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    lines, url = [], ""
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Dashboard: "):
                url = line.split(" ", 1)[1].strip()
                with urllib.request.urlopen(url, timeout=10) as page:
                    assert page.status == 200 and "Producers (today)" in page.read().decode()
                break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        proc.stdout.close()
    return url, lines


def test_demo_prints_a_working_dashboard_link_and_the_same_one_on_the_next_start(tmp_path):
    first, lines = start_demo(tmp_path)
    assert "/dashboard?token=" in first, "".join(lines)
    second, _ = start_demo(tmp_path)
    assert second.split("token=")[1] == first.split("token=")[1]


def test_the_console_shows_the_whole_email_body(caplog):
    body = "Hi Maria,\n\nThanks for your Auto quote request.\nSarah M. will call you from (201) 555-0111.\n\nOur Agency"
    with caplog.at_level(logging.INFO, logger="leadrouter.console"):
        ConsoleNotifier().send(Message(key="k", channel="email", to="maria@example.com", body=body, subject="Hi",
                                       lead_id="L-1001", recipient="lead", template="lead_intro_email"))
    assert "Thanks for your Auto quote request." in caplog.text and "Our Agency" in caplog.text
    assert "(201) 555-0111" not in caplog.text  # still masked
