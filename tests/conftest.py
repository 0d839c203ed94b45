"""Shared fixtures: app -> client -> runner (the Flask tutorial's shape), on a real store.

`store` is parametrized over backends; each backend is a real implementation on
loopback or a temporary file, never a mock of our own classes.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

import pytest

from app import create_app
from automations.clock import FrozenClock
from automations.notify.channels.console import ConsoleNotifier
from sheets_schema.demo import demo_rows
from sheets_schema.sql_store import SqlStore

# A Tuesday, 10:00 in New York: the office is open.
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)

STORE_BACKENDS = ["sqlite", "postgres", "gsheets"]


# Tests written for the guide's pure rotation among the four demo producers run with Settings ->
# Round Robin Lines = any; the product's default (rotate among the lead's line) is tested on its own
# (tests/test_routing_round_robin.py) by setting it back to "line".
PURE_ROTATION = {"setting": "Round Robin Lines", "value": "any"}


def load_demo(store, model: str = "round_robin") -> None:
    store.init()
    for tab, rows in demo_rows(model).items():
        store.replace_rows(tab, rows + [PURE_ROTATION] if tab == "Settings" else rows)


@pytest.fixture(params=STORE_BACKENDS)
def store(request, tmp_path):
    """An empty, initialised store of each backend."""
    if request.param == "sqlite":
        s = SqlStore(f"sqlite:///{tmp_path / 'leads.db'}")
    else:  # backends added by their own issue register a factory fixture named store_<backend>
        s = request.getfixturevalue(f"store_{request.param}")
    s.init()
    yield s
    s.close()


@pytest.fixture(scope="session")
def postgres_server():
    from tests.postgres_server import PostgresServer, available
    why = available()
    if why:
        pytest.skip(why)
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def store_postgres(postgres_server, request):
    """A fresh database on the session's PostgreSQL server for each test."""
    from sqlalchemy import create_engine
    name = f"t{next(_databases)}"
    admin = create_engine(postgres_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return SqlStore(postgres_server.url(name))


_databases = itertools.count(1)


@pytest.fixture
def demo_store(store):
    load_demo(store)
    return store


@pytest.fixture
def sqlite_store(tmp_path):
    """An initialised SQLite store, the default one (the Procfile's web processes share its file), for
    rules that live above the store, which the backend-wide suites already cover."""
    s = SqlStore(f"sqlite:///{tmp_path / 'leads.db'}")
    s.init()
    yield s
    s.close()


@pytest.fixture
def fresh_store(tmp_path):
    """A second, empty SQLite store: where a workbook is imported into (a move between stores)."""
    other = SqlStore(f"sqlite:///{tmp_path / 'fresh.db'}")
    other.init()
    yield other
    other.close()


@pytest.fixture
def clock():
    return FrozenClock(T0)


@pytest.fixture
def notifier():
    return ConsoleNotifier()


@pytest.fixture
def app(demo_store, clock, notifier):
    return create_app({"TESTING": True, "SEND_INLINE": True}, store=demo_store, clock=clock, notifier=notifier)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def lead_payload(**overrides) -> dict:
    """A valid submission; override fields to make it invalid or different."""
    data = dict(first_name="Maria", last_name="Lopez", email="maria.lopez@example.com", phone="(201) 555-0142",
                zip="10150", insurance_type="Auto", consent="yes")  # consent: lead texts need it (TCPA)
    data.update(overrides)
    return data


# ---- Google Sheets backend (issue 5): the whole suite also runs against gspread + a fake Sheets API ----
from tests.gsheets_fixtures import fake_sheets, rsa_key_pems, service_account_file, store_gsheets, waits  # noqa: E402,F401
