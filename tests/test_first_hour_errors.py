"""A person at a terminal or a browser gets one clear sentence, never a traceback, and a read never creates a store."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from tests.conftest import lead_payload

LEADROUTER = str(Path(sys.executable).with_name("leadrouter"))


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("LEADROUTER_", "TWILIO_", "SMTP_"))}
    return subprocess.run([LEADROUTER, *args], cwd=cwd, env={**environ, **env}, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("command", [["leads"], ["check"], ["tick"], ["activity", "1001"], ["outbox"]])
def test_outside_the_project_folder_a_command_says_there_is_no_store_and_creates_none(tmp_path, command):
    result = run(*command, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert f"There is no leadrouter store at {tmp_path / 'leads.db'}: run `leadrouter init`" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no empty leads.db left behind


def test_an_unknown_store_scheme_is_one_sentence(tmp_path):
    result = run("leads", cwd=tmp_path, LEADROUTER_STORE="mysql://db.example/leads")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "LEADROUTER_STORE must start with sqlite://, postgresql:// or gsheets:// (it is mysql://...)" \
        in result.stderr


def test_exporting_to_a_folder_that_does_not_exist_is_one_sentence_and_writes_nothing(tmp_path):
    assert run("init", cwd=tmp_path).returncode == 0
    result = run("export", "missing/agency.xlsx", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"the folder {tmp_path / 'missing'} does not exist" in result.stderr


def not_initialized_app(tmp_path):
    """What gunicorn builds from the factory before anyone ran `leadrouter init`."""
    return create_app({"TESTING": True, "STORE_URL": f"sqlite:///{tmp_path / 'leads.db'}"})


def test_before_init_a_post_is_refused_with_503_saying_it_cannot_be_stored_never_thank_you(tmp_path):
    client = not_initialized_app(tmp_path).test_client()
    answer = client.post("/leads", json=lead_payload())
    assert answer.status_code == 503
    assert "cannot store leads yet" in answer.get_json()["errors"]["store"]
    page = client.post("/leads", data={"first_name": "Ana", "last_name": "Diaz", "email": "ana@example.com",
                                       "phone": "2125550100", "zip": "10001", "insurance_type": "Auto"},
                       headers={"Accept": "text/html"})
    assert page.status_code == 503 and b"Thank you" not in page.data and b"cannot take requests yet" in page.data
    assert not (tmp_path / "leads.db").exists()


def test_before_init_the_form_and_healthz_say_the_service_is_not_ready(tmp_path):
    client = not_initialized_app(tmp_path).test_client()
    form = client.get("/", headers={"Accept": "text/html"})
    assert form.status_code == 503 and b"leadrouter init" in form.data and b"<form" not in form.data
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "unavailable"
    assert not (tmp_path / "leads.db").exists()


def test_after_init_the_same_app_takes_posts_without_a_restart(tmp_path):
    app = not_initialized_app(tmp_path)
    client = app.test_client()
    assert client.post("/leads", json=lead_payload()).status_code == 503
    assert app.test_cli_runner().invoke(args=["init", "--demo"]).exit_code == 0
    assert client.post("/leads", json=lead_payload()).status_code == 201
