"""The README's first command for real: `leadrouter demo` as a process, posted to over HTTP."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

LEADROUTER = shutil.which("leadrouter", path=str(Path(sys.executable).parent)) or shutil.which("leadrouter")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_process(tmp_path):
    if not LEADROUTER:
        pytest.fail("the leadrouter console script is not installed (pip install -e .)")
    port = _free_port()
    env = dict(os.environ, LEADROUTER_STORE=f"sqlite:///{tmp_path / 'leads.db'}")
    for name in ("TWILIO_ACCOUNT_SID", "SMTP_URL", "LEADROUTER_API_KEYS"):
        env.pop(name, None)
    proc = subprocess.Popen([LEADROUTER, "demo", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # waiting for a process to start, not for time to pass
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("leadrouter demo exited: " + proc.stdout.read().decode(errors="replace")[-500:])
            time.sleep(0.1)
    yield base, env, tmp_path
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.stdout.close()


def test_leadrouter_demo_serves_the_form_and_accepts_a_curl_style_post(demo_process):
    base, env, cwd = demo_process
    with urllib.request.urlopen(base + "/") as r:
        assert "<form" in r.read().decode()
    body = urllib.parse.urlencode(dict(first_name="Dana", last_name="Reyes", email="dana@example.com",
                                       phone="201-555-0177", zip="10250", insurance_type="BOP")).encode()
    with urllib.request.urlopen(urllib.request.Request(base + "/leads", data=body)) as r:
        assert r.status == 201
        answer = json.loads(r.read())
    assert answer["assigned_to"] in {"Sarah M.", "James K.", "Rachel T.", "David L."}
    assert answer["routing_reason"] and answer["status"] == "New"

    listed = subprocess.run([LEADROUTER, "leads", "--json"], env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=60)
    leads = json.loads(listed.stdout)
    assert [lead["lead_id"] for lead in leads] == [answer["lead_id"]]
    assert leads[0]["received_at"].endswith(("-05:00", "-04:00"))  # agency time, with its offset
