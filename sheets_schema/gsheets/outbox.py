"""The durable local outbox of sheet writes (a table in the SQLite journal).

Every write meant for the Google Sheet is recorded here first, in the same local
transaction as the change itself, then sent. A write that fails stays queued and is sent
by the next drain, also after a restart. An operation is claimed before it is sent
(pending -> inflight, a conditional update), so two threads or processes never send the
same one; an inflight claim older than its lease (the sender died) becomes due again.

An append that timed out (or that a gateway gave up on) may still be landing: it is released
with the time it became uncertain (`uncertain_at`), and the drain appends it again only from
a read of the sheet taken a grace period later, when Google has long finished with it.

Epochs make the local replica of the Leads tab safe to rebuild from a snapshot: each
snapshot starts a new epoch, and an operation finished in the current epoch may have
landed after the snapshot was read, so it is laid over the snapshot again.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, and_, insert, inspect, or_, select, update

from ..sql_store import SqlStore

metadata = MetaData()
outbox_t = Table(
    "sheet_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # append | update
    Column("lead_id", String(64), nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False, default="pending", index=True),  # pending | inflight | done
    Column("claimed_at", Float),
    Column("done_epoch", Integer),
    Column("note", Text, default=""),
    Column("uncertain_at", Float),  # when a send of it last gave up while it may still have been running
)
EPOCH = "sheets_epoch"


@dataclass(frozen=True)
class Op:
    id: int
    kind: str
    lead_id: str
    payload: dict[str, Any]
    state: str
    uncertain_at: float | None = None


def _op(row) -> Op:
    return Op(row.id, row.kind, row.lead_id, json.loads(row.payload), row.state, row.uncertain_at)


class Outbox:
    def __init__(self, journal: SqlStore, lease_seconds: float = 120.0) -> None:
        self.journal = journal
        self.lease = lease_seconds

    def create(self) -> None:
        metadata.create_all(self.journal.engine)
        columns = {c["name"] for c in inspect(self.journal.engine).get_columns("sheet_outbox")}
        if "uncertain_at" not in columns:  # a journal written by an earlier version
            with self.journal.engine.connect() as conn:
                conn.exec_driver_sql("ALTER TABLE sheet_outbox ADD COLUMN uncertain_at FLOAT")

    def put(self, kind: str, lead_id: str, payload: dict[str, Any]) -> int:
        """Queue one write; joins the caller's local transaction."""
        with self.journal._tx() as conn:
            result = conn.execute(insert(outbox_t).values(kind=kind, lead_id=lead_id, payload=json.dumps(payload),
                                                          state="pending", note=""))
            return int(result.inserted_primary_key[0])

    def claim(self, ids: Iterable[int] | None = None) -> list[Op]:
        """Take due operations (pending, or inflight past their lease) for sending, oldest first."""
        now = time.time()
        due = or_(outbox_t.c.state == "pending",
                  and_(outbox_t.c.state == "inflight", outbox_t.c.claimed_at < now - self.lease))
        query = select(outbox_t).where(due).order_by(outbox_t.c.id)
        if ids is not None:
            ids = list(ids)
            if not ids:
                return []
            query = query.where(outbox_t.c.id.in_(ids))
        claimed = []
        with self.journal._tx() as conn:
            for row in conn.execute(query).all():
                won = conn.execute(update(outbox_t).where(and_(outbox_t.c.id == row.id, outbox_t.c.state == row.state))
                                   .values(state="inflight", claimed_at=now)).rowcount
                if won == 1:
                    claimed.append(_op(row))
        return claimed

    def due_appends(self, limit: int) -> list[int]:
        """Pending appends that are certainly not in the sheet (none of their sends may still land)."""
        query = (select(outbox_t.c.id).where(and_(outbox_t.c.kind == "append", outbox_t.c.state == "pending",
                                                  outbox_t.c.uncertain_at.is_(None)))
                 .order_by(outbox_t.c.id).limit(limit))
        with self.journal._conn() as conn:
            return [row.id for row in conn.execute(query)]

    def release(self, ops: Iterable[Op], uncertain_at: float | None = None) -> None:
        """Sending failed (or is put off): due again at the next drain, which looks in the sheet first.

        `uncertain_at`: this attempt may still land; a later such attempt restarts the grace period.
        """
        ids = [op.id for op in ops]
        if ids:
            values: dict[str, Any] = {"state": "pending", "claimed_at": None}
            if uncertain_at is not None:
                values["uncertain_at"] = uncertain_at
            with self.journal._tx() as conn:
                conn.execute(update(outbox_t).where(outbox_t.c.id.in_(ids)).values(**values))

    def done(self, ops: Iterable[Op], note: str = "") -> None:
        ids = [op.id for op in ops]
        if not ids:
            return
        with self.journal._tx() as conn:
            epoch = int(self.journal.get_state(EPOCH) or 0)
            conn.execute(update(outbox_t).where(outbox_t.c.id.in_(ids))
                         .values(state="done", done_epoch=epoch, note=note))

    def begin_epoch(self) -> int:
        with self.journal._tx():
            epoch = int(self.journal.get_state(EPOCH) or 0) + 1
            self.journal.set_state(EPOCH, str(epoch))
        return epoch

    def overlay(self, epoch: int) -> list[Op]:
        """Operations a snapshot taken in `epoch` may not show yet."""
        query = (select(outbox_t).where(or_(outbox_t.c.state != "done", outbox_t.c.done_epoch >= epoch))
                 .order_by(outbox_t.c.id))
        with self.journal._conn() as conn:
            return [_op(r) for r in conn.execute(query)]

    def waiting(self, lead_id: str | None = None, kind: str | None = None) -> int:
        """How many operations are not yet in the sheet (for one lead, or all)."""
        query = select(outbox_t.c.id).where(outbox_t.c.state != "done")
        if lead_id is not None:
            query = query.where(outbox_t.c.lead_id == lead_id)
        if kind is not None:
            query = query.where(outbox_t.c.kind == kind)
        with self.journal._conn() as conn:
            return len(conn.execute(query).all())
