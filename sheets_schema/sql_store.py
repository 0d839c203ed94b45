"""The SQL store (SQLAlchemy Core): a SQLite file by default, PostgreSQL for bigger agencies.

One table per tab, one column per tab column (named by its key), so an export to xlsx or
to a Google Sheet is a straight copy. The Activity table is also the journal: its Key
column is unique, which is what makes claim-before-send exactly-once.
"""
from __future__ import annotations

import contextlib
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Iterator

from sqlalchemy import (
    Column as SqlColumn, Float, Index, Integer, MetaData, String, Table, Text, and_, bindparam, case, create_engine,
    event, func, insert, or_, select, text, update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from automations.events import REASSIGNMENT_EVENTS
from automations.ports import HISTORY_DAYS, SEQUENCE_STOPPED, WATCH_DAYS, ProducerLoad, Store, fixed_window
from . import cells
from .models import Activity, Lead, Rejected, canonical_lead_changes, canonical_status
from .tabs import ACTIVITY, LEADS, OPEN_STATUSES, REJECTED, TABS, Tab, snake

metadata = MetaData()
JOURNAL_CHUNK = 900  # lead ids per IN (...) query: well under every backend's parameter limit


def _sql_type(kind: str):
    return {"int": Integer, "number": Float, "money": Float, "percent": Float}.get(kind, Text)


def _table(tab: Tab) -> Table:
    columns = [SqlColumn("row_id", Integer, primary_key=True, autoincrement=True)]
    columns += [SqlColumn(c.key, _sql_type(c.kind) if not tab.config else Text) for c in tab.columns]
    return Table(snake(tab.name), metadata, *columns)


TABLES: dict[str, Table] = {name: _table(tab) for name, tab in TABS.items()}
leads_t = TABLES["Leads"]
activity_t = TABLES["Activity"]
rejected_t = _table(REJECTED)
Index("rejected_id", rejected_t.c.rejected_id, unique=True)
state_t = Table("state", metadata, SqlColumn("name", String(100), primary_key=True), SqlColumn("value", Text))
# fixed-window counters (Store.hit): rate limits on POST /leads, the cap on texts to leads
rate_t = Table("rate_counts", metadata, SqlColumn("key", String(400), primary_key=True),
               SqlColumn("window_end", Float, nullable=False), SqlColumn("hits", Integer, nullable=False))
Index("leads_lead_id", leads_t.c.lead_id, unique=True)
Index("leads_phone", leads_t.c.phone)
Index("leads_email", leads_t.c.email)
Index("leads_received", leads_t.c.received_at)
Index("leads_owner_status", leads_t.c.assigned_to, leads_t.c.status)
# owner + Assigned At, and what the 90-day record counts: Store.workload reads this index alone
# (it replaces leads_owner_assigned, its prefix, which databases created before keep)
Index("leads_owner_history", leads_t.c.assigned_to, leads_t.c.assigned_at, leads_t.c.status,
      leads_t.c.response_minutes, leads_t.c.first_contact_at)
Index("leads_status_owner", leads_t.c.status, leads_t.c.assigned_to)
Index("leads_assigned", leads_t.c.assigned_at)
# what a tick must look at (Store.watched_leads): literal SQL, so that query and index match exactly
WATCHED = text(
    "(coalesce(first_contact_at, '') = ''"
    " OR (lower(trim(coalesce(status, ''))) = 'quoted' AND coalesce(quoted_at, '') = '')"
    " OR (lower(trim(coalesce(status, ''))) = 'bound' AND coalesce(bound_at, '') = ''))")
Index("leads_watched", leads_t.c.row_id, sqlite_where=WATCHED, postgresql_where=WATCHED)
Index("activity_lead", activity_t.c.lead_id)
Index("activity_key", activity_t.c.key, unique=True,
      sqlite_where=activity_t.c.key != "", postgresql_where=activity_t.c.key != "")


def _encode(tab: Tab, row: dict[str, Any]) -> dict[str, Any]:
    """Python values -> column values (numbers stay numbers on typed tables, the rest text)."""
    out = {}
    for col in tab.columns:
        if col.key not in row:
            continue
        value = row[col.key]
        if not tab.config and _sql_type(col.kind) is not Text:
            out[col.key] = value
        else:
            text = cells.to_text(col.kind, value) if not isinstance(value, str) else value
            out[col.key] = text.replace("\x00", "")  # PostgreSQL text cannot hold NUL; nobody means one
    return out


def _decode(tab: Tab, row) -> dict[str, Any]:
    return {c.key: row._mapping[c.key] for c in tab.columns}


class _Rehearsed(Exception):
    """Rolls back SqlStore.warm_up's rehearsal."""


class SqlStore(Store):
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._local = threading.local()
        self._writer = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        self._columns_checked = False  # a database made by an older version gets new columns on first use

    # ---- connections and transactions ------------------------------------------------
    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        self._upgrade_once()
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _tx(self, lock: bool = False, savepoint: bool = False) -> Iterator[Connection]:
        """A transaction on this thread; nested calls join the outer one (in a savepoint if asked,
        so that a failed statement - a lost claim - does not spoil the outer transaction)."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            if not savepoint:
                yield current
                return
            current.exec_driver_sql("SAVEPOINT claim")
            try:
                yield current
            except BaseException:
                current.exec_driver_sql("ROLLBACK TO SAVEPOINT claim")
                current.exec_driver_sql("RELEASE SAVEPOINT claim")
                raise
            current.exec_driver_sql("RELEASE SAVEPOINT claim")
            return
        self._upgrade_once()
        # SQLite allows one writer: threads of this process queue on a lock that wakes them at
        # once, instead of on SQLite's busy handler, which sleeps in steps of up to 100 ms
        with self._writer, self.engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if self.is_sqlite else "BEGIN")
            if lock and not self.is_sqlite:
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(724001)")
            self._local.conn = conn
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            else:
                conn.exec_driver_sql("COMMIT")
            finally:
                self._local.conn = None

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._tx(lock=True):
            yield

    # ---- structure ----------------------------------------------------------------
    def initialized(self) -> bool:
        """Whether `init` has made our tables (checked before a read, which must not create them)."""
        from sqlalchemy import inspect
        return inspect(self.engine).has_table(leads_t.name)

    def _upgrade_once(self) -> None:
        """Before the first query: a database from an older version gets the columns added since
        (a form post must not fail because nobody ran `init` after an upgrade)."""
        if not self._columns_checked:
            self._columns_checked = True
            with self._writer:
                self._add_new_columns()

    def init(self) -> None:
        metadata.create_all(self.engine)
        self._add_new_columns()
        with self.engine.connect() as conn:  # indexes added since a table was created
            for table in (leads_t, activity_t):
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
        self.optimize()

    def _add_new_columns(self) -> None:
        """Columns added to a tab since its table was created (Producers' After Hours Calls, Lines'
        Aliases, Leads' How Heard ...): added empty, so a database made by an older version keeps working."""
        from sqlalchemy import inspect
        inspector = inspect(self.engine)
        with self.engine.begin() as conn:
            for table in (*TABLES.values(), rejected_t):
                if not inspector.has_table(table.name):
                    continue  # `init` creates it
                have = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name not in have:
                        kind = column.type.compile(dialect=self.engine.dialect)
                        conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')

    def refresh(self) -> bool:
        """Once per tick: fold the write-ahead log into the database off the request path."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        return True

    def optimize(self) -> None:
        """Refresh the query planner's statistics (cheap; SQLite only analyzes what changed)."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA optimize=0x10002")

    def read_rows(self, tab: str) -> list[dict[str, Any]]:
        table, spec = TABLES[tab], TABS[tab]
        with self._conn() as conn:
            return [_decode(spec, r) for r in conn.execute(select(table).order_by(table.c.row_id))]

    def replace_rows(self, tab: str, rows: Iterable[dict[str, Any]]) -> None:
        table, spec = TABLES[tab], TABS[tab]
        encoded = [_encode(spec, {snake(k): v for k, v in row.items()}) for row in rows]
        with self._tx() as conn:
            conn.execute(table.delete())
            if encoded:
                conn.execute(insert(table), [{c.key: r.get(c.key, "") for c in spec.columns} for r in encoded])
            self.set_state("config_version", str(int(self.config_version() or 0) + 1))

    def config_version(self) -> str | None:
        return self.get_state("config_version") or "0"

    # ---- leads --------------------------------------------------------------------
    def add_lead(self, lead: Lead) -> None:
        with self._tx() as conn:
            conn.execute(insert(leads_t).values(**_encode(LEADS, lead.to_row())))

    def get_lead(self, lead_id: str) -> Lead | None:
        with self._conn() as conn:
            row = conn.execute(select(leads_t).where(leads_t.c.lead_id == lead_id)).first()
        return Lead.from_row(_decode(LEADS, row)) if row else None

    def update_lead(self, lead_id: str, changes: dict[str, Any]) -> None:
        values = _encode(LEADS, canonical_lead_changes(changes))
        with self._tx() as conn:
            conn.execute(update(leads_t).where(leads_t.c.lead_id == lead_id).values(**values))

    def leads(self, since: datetime | None = None) -> list[Lead]:
        query = select(leads_t).order_by(leads_t.c.row_id)
        if since is not None:
            query = query.where(leads_t.c.received_at >= cells.to_text("datetime", since))
        with self._conn() as conn:
            return [Lead.from_row(_decode(LEADS, r)) for r in conn.execute(query)]

    def lead_statuses(self, since: datetime | None = None) -> dict[str, tuple[datetime, str]]:
        """Three columns instead of whole leads: the daily sweep over 100k leads stays cheap."""
        c = leads_t.c
        query = select(c.lead_id, c.received_at, c.status).order_by(c.row_id)
        if since is not None:
            query = query.where(c.received_at >= cells.to_text("datetime", since))
        with self._conn() as conn:
            return {lead_id: (cells.parse_datetime(received), canonical_status(status))
                    for lead_id, received, status in conn.execute(query)}

    def open_leads(self) -> list[Lead]:
        query = select(leads_t).where(leads_t.c.status.in_(OPEN_STATUSES)).order_by(leads_t.c.row_id)
        with self._conn() as conn:
            return [Lead.from_row(_decode(LEADS, r)) for r in conn.execute(query)]

    def watched_leads(self, now: datetime | None = None) -> list[Lead]:
        """Filtered in SQL, so a tick decodes only the leads that may have something due."""
        if now is None:
            query, params = _WATCHED_ALL, {}
        else:
            query, params = _WATCHED_DUE, {"recent": cells.to_text("datetime", now - timedelta(days=WATCH_DAYS)),
                                           "now": cells.to_text("datetime", now)}
        with self._conn() as conn:
            return [Lead.from_row(_decode(LEADS, r)) for r in conn.execute(query, params)]

    def journal(self, lead_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """Keyed and 'reassigned' Activity rows of these leads, by the activity_lead index."""
        ids = list(dict.fromkeys(lead_ids))
        out: dict[str, list[tuple[str, str]]] = {}
        c = activity_t.c
        with self._conn() as conn:
            for i in range(0, len(ids), JOURNAL_CHUNK):
                query = (select(c.lead_id, c.key, c.event)
                         .where(and_(c.lead_id.in_(ids[i:i + JOURNAL_CHUNK]),
                                     or_(func.coalesce(c.key, "") != "", c.event.in_(REASSIGNMENT_EVENTS))))
                         .order_by(c.row_id))
                for lead_id, key, event in conn.execute(query):
                    out.setdefault(lead_id, []).append((key or "", event or ""))
        return out

    def find_duplicate(self, phone: str, email: str, since: datetime) -> Lead | None:
        match = []
        if phone:
            match.append(leads_t.c.phone == phone)
        if email:
            match.append(leads_t.c.email == email.lower())  # stored lower-case, so the index is used
        if not match:
            return None
        query = (select(leads_t)
                 .where(and_(or_(*match), leads_t.c.received_at >= cells.to_text("datetime", since)))
                 .order_by(leads_t.c.row_id.desc()).limit(1))
        with self._conn() as conn:
            row = conn.execute(query).first()
        return Lead.from_row(_decode(LEADS, row)) if row else None

    def workload(self, now: datetime, history: bool = True) -> dict[str, ProducerLoad]:
        """Store.workload in three index-only aggregate queries, on the hot path of every lead.

        Same loads as the generic version, except that `response_minutes` holds one value, the
        mean (all routing reads is `avg_response`): 20,000 leads in the window cost ~3 ms
        here instead of ~50 ms fetched row by row.
        """
        loads: dict[str, ProducerLoad] = {}
        with self._conn() as conn:
            for name, last in conn.execute(_LAST_ASSIGNED):  # index seeks per owner, never a scan
                loads[name] = ProducerLoad(last_assigned_at=cells.parse_datetime(last))
            for name, count in conn.execute(_ACTIVE):
                loads.setdefault(name, ProducerLoad()).active = int(count)
            if history:
                self._add_history(conn, now, loads)
        return loads

    def _add_history(self, conn: Connection, now: datetime, loads: dict[str, ProducerLoad]) -> None:
        since = now - timedelta(days=HISTORY_DAYS)
        if since.microsecond:  # stored times are whole seconds: ">= since" starts at the next one
            since = since.replace(microsecond=0) + timedelta(seconds=1)
        for name, assigned, bound, answered, minutes in conn.execute(_HISTORY,
                                                                   {"since": cells.to_text("datetime", since)}):
            load = loads.setdefault(name, ProducerLoad())
            load.assigned_window, load.bound_window = int(assigned), int(bound or 0)
            if answered:
                load.response_minutes = [float(minutes) / int(answered)]

    # ---- activity / journal -------------------------------------------------------
    def add_activity(self, events: Iterable[Activity]) -> None:
        rows = [_encode(ACTIVITY, e.to_row()) for e in events]
        if rows:
            with self._tx() as conn:
                conn.execute(insert(activity_t), rows)

    def claim(self, event: Activity) -> bool:
        """Insert-or-lose on the unique Key index: one statement, race-free on both dialects."""
        if not event.key:
            raise ValueError("a claim needs a key")
        try:
            with self._tx(savepoint=True) as conn:
                conn.execute(insert(activity_t).values(**_encode(ACTIVITY, event.to_row())))
        except IntegrityError:
            return False
        return True

    def activity(self, lead_id: str | None = None) -> list[Activity]:
        query = select(activity_t).order_by(activity_t.c.row_id)
        if lead_id is not None:
            query = query.where(activity_t.c.lead_id == lead_id)
        with self._conn() as conn:
            return [Activity.from_row(_decode(ACTIVITY, r)) for r in conn.execute(query)]

    def get_state(self, name: str) -> str | None:
        with self._conn() as conn:
            return conn.execute(select(state_t.c.value).where(state_t.c.name == name)).scalar()

    def set_state(self, name: str, value: str) -> None:
        with self._tx() as conn:
            done = conn.execute(update(state_t).where(state_t.c.name == name).values(value=value)).rowcount
            if not done:
                try:  # two workers may both find no row: the second insert loses and updates instead
                    with self._tx(savepoint=True) as inner:
                        inner.execute(insert(state_t).values(name=name, value=value))
                except IntegrityError:
                    conn.execute(update(state_t).where(state_t.c.name == name).values(value=value))

    def warm_up(self) -> None:
        """Before the first post: the statements a form post runs, in one transaction that is
        rolled back, so SQLAlchemy compiles and caches them now and not on the first lead's
        request (about 20 ms of it). Nothing is kept, nothing is sent."""
        now = datetime.now(timezone.utc)
        try:
            with self._tx():
                self.get_state("rehearsal:none")
                self.set_state("rehearsal:state", "x")
                self.add_lead(Lead(lead_id="L-REHEARSAL", received_at=now, first_name="Rehearsal", status="New"))
                self.update_lead("L-REHEARSAL", {"assigned_to": "Nobody"})
                self.find_duplicate("+12015550100", "rehearsal@example.com", now)
                self.workload(now)
                self.claim(Activity(time=now, lead_id="L-REHEARSAL", event="rehearsal", key="rehearsal:key"))
                self.hit("rehearsal", now, 60)
                raise _Rehearsed
        except _Rehearsed:
            pass

    def next_lead_id(self) -> str:
        with self._tx() as conn:
            current = conn.execute(select(state_t.c.value).where(state_t.c.name == "lead_counter")).scalar()
            number = int(current or 1000) + 1
            self.set_state("lead_counter", str(number))
        return f"L-{number}"

    def hit(self, key: str, now: datetime, seconds: float, amount: int = 1) -> tuple[int, datetime]:
        """One event against `key` in its fixed window, counted in this database (every worker and host
        that uses it shares the count); expired windows are swept now and then."""
        start, end = fixed_window(now, seconds)
        if not getattr(self, "_rates_ready", False):  # a database created before counters existed
            rate_t.create(self.engine, checkfirst=True)
            self._rates_ready = True
        row_key, stamp = f"{key}@{int(start.timestamp())}", end.timestamp()
        if not amount:
            with self._conn() as conn:
                return conn.execute(select(rate_t.c.hits).where(rate_t.c.key == row_key)).scalar() or 0, end
        with self._tx(lock=True) as conn:
            done = conn.execute(update(rate_t).where(rate_t.c.key == row_key).values(hits=rate_t.c.hits + amount)).rowcount
            if not done:
                conn.execute(insert(rate_t).values(key=row_key, window_end=stamp, hits=amount))
                if sum(map(ord, row_key)) % 50 == 0:  # about one new window in 50 sweeps the old ones
                    conn.execute(rate_t.delete().where(rate_t.c.window_end < now.timestamp() - 3600))
            hits = conn.execute(select(rate_t.c.hits).where(rate_t.c.key == row_key)).scalar_one()
        return hits, end
    # ---- refused submissions -------------------------------------------------------
    def add_rejected(self, row: Rejected, max_rows: int, max_chars: int) -> str:
        with self._tx(lock=True) as conn:  # the counter: one writer at a time on PostgreSQL too
            number = int(conn.execute(select(state_t.c.value).where(state_t.c.name == "rejected_counter")).scalar()
                         or 0) + 1
            self.set_state("rejected_counter", str(number))
            rejected_id = f"R-{number}"
            conn.execute(insert(rejected_t).values(**_encode(REJECTED, {**row.to_row(), "rejected_id": rejected_id})))
            sizes = conn.execute(select(rejected_t.c.row_id, func.length(func.coalesce(rejected_t.c.body, "")))
                                 .order_by(rejected_t.c.row_id.desc())).all()
            kept, total, drop = 0, 0, []
            for row_id, size in sizes:  # newest first: the oldest go once the cap is reached
                kept, total = kept + 1, total + int(size or 0)
                if kept > max_rows or (total > max_chars and kept > 1):
                    drop.append(row_id)
            if drop:
                conn.execute(rejected_t.delete().where(rejected_t.c.row_id.in_(drop)))
        return rejected_id

    def rejected(self) -> list[Rejected]:
        with self._conn() as conn:
            return [Rejected.from_row(_decode(REJECTED, r))
                    for r in conn.execute(select(rejected_t).order_by(rejected_t.c.row_id))]

    def get_rejected(self, rejected_id: str) -> Rejected | None:
        with self._conn() as conn:
            row = conn.execute(select(rejected_t).where(func.upper(rejected_t.c.rejected_id)
                                                        == rejected_id.strip().upper())).first()
        return Rejected.from_row(_decode(REJECTED, row)) if row else None

    def mark_replayed(self, rejected_id: str, lead_id: str) -> None:
        with self._tx() as conn:
            conn.execute(update(rejected_t).where(rejected_t.c.rejected_id == rejected_id).values(replayed_as=lead_id))

    def close(self) -> None:
        self.engine.dispose()


def _blank(column):
    return func.coalesce(column, "") == ""


def _watched(due_only: bool):
    """Leads a tick looks at (Store.watched_leads): untouched ones, and Status edits missing stamps.
    With `due_only`, untouched leads assigned before :recent whose Next Follow-up is after :now,
    or whose sequence has stopped, are left out: nothing can be due for them. The WATCHED
    predicate is spelled exactly as the leads_watched partial index's, so the database reads
    that small index instead of the whole Leads table."""
    c = leads_t.c
    query = select(leads_t).where(WATCHED).order_by(c.row_id)
    if not due_only:
        return query
    recent, now = bindparam("recent"), bindparam("now")
    stopped = (select(activity_t.c.row_id)
               .where(and_(activity_t.c.key == c.lead_id.concat(SEQUENCE_STOPPED), activity_t.c.key != ""))
               .exists())
    status = func.lower(func.trim(func.coalesce(c.status, "")))
    return query.where(or_(
        func.coalesce(c.first_contact_at, "") != "",  # a stamp is missing (Quoted/Bound At)
        status.not_in(("new", "")),                   # a Status edit to stamp
        func.coalesce(c.assigned_at, "") >= recent, c.received_at >= recent,
        and_(_blank(c.next_follow_up), ~stopped),
        func.coalesce(c.next_follow_up, "") <= now))


_WATCHED_ALL, _WATCHED_DUE = _watched(False), _watched(True)


def _load_queries():
    """The queries of SqlStore.workload. Owners are found by a loose index scan (a recursive
    'next owner after this one'), so the cost grows with the number of owners, not of leads."""
    c = leads_t.c
    owners = select(func.min(c.assigned_to).label("name")).where(c.assigned_to > "").cte("owners", recursive=True)
    after = leads_t.alias("after")
    following = select(select(func.min(after.c.assigned_to)).where(after.c.assigned_to > owners.c.name)
                       .scalar_subquery()).where(owners.c.name.is_not(None))
    owners = owners.union_all(following)
    inner = leads_t.alias("inner")
    latest = select(func.max(inner.c.assigned_at)).where(inner.c.assigned_to == owners.c.name).scalar_subquery()
    last_assigned = select(owners.c.name, latest).where(owners.c.name.is_not(None))
    active = (select(c.assigned_to, func.count()).where(and_(c.status.in_(OPEN_STATUSES), c.assigned_to > ""))
              .group_by(c.assigned_to))
    answered = and_(c.first_contact_at != "", c.response_minutes.is_not(None))
    history = (select(c.assigned_to, func.count(), func.sum(case((c.status == "Bound", 1), else_=0)),
                      func.count(case((answered, c.response_minutes))),
                      func.sum(case((answered, c.response_minutes))))
               .where(and_(c.assigned_to > "", c.assigned_at >= bindparam("since"))).group_by(c.assigned_to))
    return last_assigned, active, history


_LAST_ASSIGNED, _ACTIVE, _HISTORY = _load_queries()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Checkpoints are the tick's job (refresh); a request should not pay for one on its way out
    cursor.execute("PRAGMA wal_autocheckpoint=20000")
    cursor.close()
