"""Database set-up per dialect, and starting write transactions the same way everywhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, SessionTransaction

from casework.extensions import db

WRITE_OPTION = "casework_write"
#: Set in `Session.info` once the session has written in its current transaction.
WROTE = "casework_wrote"


@event.listens_for(Session, "after_flush")
def _remember_write(session: Session, context: Any) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)


def configure_engine(engine: Engine) -> None:
    """SQLite: WAL, foreign keys, and transactions begun by us, IMMEDIATE when they will write.

    pysqlite's own transaction handling is turned off (the SQLAlchemy recipe), so a write
    transaction takes the database's write lock at BEGIN: racing writers queue instead of failing
    with "database is locked" half-way through.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def begin_write() -> None:
    """Make sure the session is in a write transaction before reading what it will change.

    On SQLite a read-only transaction that has already begun is ended first (it has nothing to
    save), and a new one begins with BEGIN IMMEDIATE. A transaction that has already written
    holds the write lock, so it simply goes on: nothing is ever committed here. On PostgreSQL,
    writers lock the rows they change with SELECT … FOR UPDATE instead.
    """
    session = db.session()
    if not is_sqlite():
        return
    if session.in_transaction():
        if session.connection().get_execution_options().get(WRITE_OPTION) or session.info.get(
            WROTE
        ):
            return
        if session.new or session.dirty or session.deleted:
            session.flush()
            return
        session.commit()
    session.connection(execution_options={WRITE_OPTION: True})
