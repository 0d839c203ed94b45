"""Fixtures for the Google Sheets store: a fake Sheets API on loopback, a throwaway service account.

The store under test is the real one (gspread + google-auth over HTTP); only Google is
replaced, by tests/fake_sheets_api.py. Backoff waits are recorded instead of slept.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sheets_schema.gsheets.api import SheetsApi
from sheets_schema.gsheets.store import GSheetsStore
from sheets_schema.sql_store import SqlStore
from tests.fake_sheets_api import FakeSheets

SPREADSHEET_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


class Waits(list):
    """An injectable sleep: remembers each backoff wait, never sleeps."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="session")
def rsa_key_pems() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # throwaway; loads fast
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture
def fake_sheets(rsa_key_pems):
    fake = FakeSheets(SPREADSHEET_ID, public_key_pem=rsa_key_pems[1]).start()
    yield fake
    fake.stop()


def write_service_account(path: Path, private_pem: str, token_uri: str) -> Path:
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "leadrouter-test", "private_key_id": "0123456789abcdef",
        "private_key": private_pem, "client_email": "leadrouter@leadrouter-test.iam.gserviceaccount.com",
        "client_id": "100000000000000000000", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }))
    return path


@pytest.fixture
def service_account_file(tmp_path, rsa_key_pems, fake_sheets) -> Path:
    return write_service_account(tmp_path / "service-account.json", rsa_key_pems[0], fake_sheets.token_uri)


@pytest.fixture
def waits() -> Waits:
    return Waits()


def make_store(fake: FakeSheets, key_file: Path, journal: Path, waits: Waits, *, append_timeout: float = 3.0,
               **kwargs) -> GSheetsStore:
    api = SheetsApi(fake.spreadsheet_id, str(key_file), api_base=fake.url, sleep=waits, timeout=5,
                    append_timeout=append_timeout)
    return GSheetsStore(api, SqlStore(f"sqlite:///{journal}"), **kwargs)


@pytest.fixture
def store_gsheets(fake_sheets, service_account_file, tmp_path, waits, clock):
    """A Google Sheets store on the fake API (the conftest `store` fixture initialises and closes it).

    It shares the test's clock, which moves the grace period of an append that timed out."""
    return make_store(fake_sheets, service_account_file, tmp_path / "journal.db", waits, clock=clock)


@pytest.fixture(name="store")
def sheet_store(store_gsheets):
    """Only the Google Sheets backend, initialised, in a module that imports it (it overrides the
    conftest's parametrized `store`)."""
    store_gsheets.init()
    yield store_gsheets
    store_gsheets.close()


def post(client, i: int = 0, **overrides):
    """Lead number `i` through the form endpoint (its own email and phone, so never a duplicate)."""
    from tests.conftest import lead_payload
    return client.post("/leads", json=lead_payload(email=f"lead{i}@example.com", phone=f"201555{i:04d}", **overrides))
