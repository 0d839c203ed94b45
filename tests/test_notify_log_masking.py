"""The web process gunicorn runs is built by create_app alone: its logs are masked too."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What gunicorn does: import the factory and call it, with no logging set up by us beforehand.
WEB_PROCESS = """
import logging
from app import create_app
from sheets_schema.sql_store import SqlStore
create_app({"TESTING": True}, store=SqlStore("sqlite://"))
create_app({"TESTING": True}, store=SqlStore("sqlite://"))  # a second app (another worker import) is harmless
logging.getLogger("leadrouter.notify").warning("send failed: to %s at %s", "maria.lopez@example.com", "+12015550142")
logging.getLogger("gunicorn.error").error("GET /dashboard?token=s3cr3t-value")
"""


def test_the_web_process_masks_phone_numbers_emails_and_tokens_in_its_logs():
    out = subprocess.run([sys.executable, "-c", WEB_PROCESS], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "send failed: to m***@example.com at ***-***-0142" in out.stderr
    assert "maria.lopez" not in out.stderr and "5550142" not in out.stderr and "s3cr3t" not in out.stderr
    assert out.stderr.count("send failed") == 1  # one handler, not one per create_app


def test_create_app_installs_the_filter_once_on_handlers_already_there():
    from app import RedactingFilter, create_app
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        create_app({"TESTING": True})
        create_app({"TESTING": True})
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)
