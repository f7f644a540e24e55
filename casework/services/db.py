"""Database set-up per dialect, and starting write transactions the same way everywhere."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction

from casework.errors import FromAnotherSite
from casework.extensions import db

WRITE_OPTION = "casework_write"
#: Seconds a write waits for a lock another connection holds before giving up (503).
DEFAULT_LOCK_TIMEOUT = 5.0
#: Set in `Session.info` once the session has written in its current transaction.
WROTE = "casework_wrote"


#: Set in `Session.info` (with the reason) while the request may not write at all.
NO_WRITES = "casework_no_writes"


def refuse_writes(reason: str | None) -> None:
    """From now on, `begin_write` raises `FromAnotherSite(reason)` (None lifts it)."""
    info = db.session().info
    if reason is None:
        info.pop(NO_WRITES, None)
    else:
        info[NO_WRITES] = reason


def writes_refused() -> str | None:
    """Why the request may not write, or None."""
    reason: str | None = db.session().info.get(NO_WRITES)
    return reason


@event.listens_for(Session, "after_flush")
def _remember_write(session: Session, context: Any) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)


def configure_engine(engine: Engine, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
    """Per dialect: how long a write waits for a lock another connection holds (`lock_timeout`
    seconds, CASEWORK_LOCK_TIMEOUT), after which it fails and the request answers 503.

    SQLite: WAL, foreign keys, and transactions begun by us, IMMEDIATE when they will write.
    pysqlite's own transaction handling is turned off (the SQLAlchemy recipe), so a write
    transaction takes the database's write lock at BEGIN: racing writers queue instead of failing
    with "database is locked" half-way through. Readers never wait for a writer (WAL).
    PostgreSQL: `lock_timeout` for row and advisory locks.
    """
    wait_ms = max(1, int(lock_timeout * 1000))
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _on_pg_connect(dbapi_conn: Any, record: Any) -> None:
            autocommit = dbapi_conn.autocommit
            dbapi_conn.autocommit = True
            with dbapi_conn.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {wait_ms}")
            dbapi_conn.autocommit = autocommit

        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={wait_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION)
        # Straight on the driver's connection: this runs before every transaction, and needs none
        # of SQLAlchemy's statement handling; a failure still surfaces as SQLAlchemy's error.
        driver: Any = conn.connection.driver_connection
        try:
            if write:
                _begin_immediate(driver, wait_ms)
            else:
                driver.execute("BEGIN")
        except sqlite3.Error as exc:
            statement = "BEGIN IMMEDIATE" if write else "BEGIN"
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


#: The longest pause between two tries for SQLite's write lock.
LONGEST_PAUSE_S = 0.001


def _begin_immediate(driver: sqlite3.Connection, wait_ms: int) -> None:
    """BEGIN IMMEDIATE: wait for the write lock in short steps, up to `wait_ms`.

    SQLite's own busy handler sleeps 1, 2, 5, 10 … 100 ms between tries, so writers queued behind
    one another sleep on long after the lock is free; here a writer starts within about a
    millisecond of the previous one's commit.
    """
    driver.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + wait_ms / 1000
        pause = 0.00005
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)
    finally:
        driver.execute(f"PRAGMA busy_timeout={wait_ms}")


@functools.lru_cache(maxsize=128)
def _driver_form(
    statement: sa.Insert | sa.Update, dialect: Dialect, keys: tuple[str, ...] | None
) -> tuple[str, tuple[str, ...], tuple[Callable[[Any], Any] | None, ...], bool]:
    """The statement compiled for `dialect` once: its text, its parameters' names in order, each
    parameter's bind processor (its column type's, as SQLAlchemy would apply it), and whether
    the driver takes them by position."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
    names = tuple(compiled.positiontup or compiled.binds)
    processors = tuple(compiled.binds[name].type.bind_processor(dialect) for name in names)
    return compiled.string, names, processors, compiled.positional


def execute_on_driver(
    connection: Connection,
    statement: sa.Insert | sa.Update,
    params: dict[str, Any],
    *,
    keys: tuple[str, ...] | None = None,
) -> tuple[int, tuple[Any, ...] | None]:
    """Run an INSERT or UPDATE straight on the driver's cursor, in the connection's transaction:
    (rows changed, the first row it returns). For the statements every audit event runs.

    The statement is compiled once per dialect (an INSERT for the columns `keys`) and each
    value goes through its column type's bind processor, as SQLAlchemy's own execution would
    do; what that execution adds around a statement (its events, result objects) costs more
    than the statement itself here. A driver error is raised as SQLAlchemy's (`driver_cursor`).
    """
    text, names, processors, positional = _driver_form(statement, connection.dialect, keys)
    values = [
        value if process is None else process(value)
        for value, process in zip(map(params.__getitem__, names), processors, strict=True)
    ]
    with driver_cursor(connection) as cursor:
        cursor.execute(text, values if positional else dict(zip(names, values, strict=True)))
        row = cursor.fetchone() if cursor.description else None
        return int(cursor.rowcount), row


@contextlib.contextmanager
def driver_cursor(connection: Connection) -> Iterator[Any]:
    """A cursor of the connection's driver, in the transaction already begun, for statements
    that every write runs and that need none of SQLAlchemy's handling (`execute_on_driver`, the
    log's leaves). It is closed after, and what the database refuses is raised as SQLAlchemy's
    error, as SQLAlchemy's own execution would raise it: callers and the request's commit
    (`http.transaction`) tell a conflict or a busy database from a fault by those errors."""
    base: type[Exception] = connection.dialect.loaded_dbapi.Error
    driver: Any = connection.connection.driver_connection
    cursor = driver.cursor()
    try:
        yield cursor
    except base as exc:
        raise DBAPIError.instance(None, None, exc, base) from exc
    finally:
        cursor.close()


def is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def begin_write() -> None:
    """Make sure the session is in a write transaction before reading what it will change.

    Every writer passes here first: a request that may not write (`refuse_writes`) stops here,
    before it has read or rendered anything.

    On SQLite a read-only transaction that has already begun is ended first (it has nothing to
    save), and a new one begins with BEGIN IMMEDIATE. A transaction that has already written
    holds the write lock, so it simply goes on: nothing is ever committed here. On PostgreSQL,
    writers lock the rows they change with SELECT … FOR UPDATE instead.
    """
    session = db.session()
    refused = session.info.get(NO_WRITES)
    if refused:
        raise FromAnotherSite(refused)
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


def refresh_statistics() -> None:
    """Bring SQLite's query-planner statistics on cases up to date, when the table has grown.

    Without them SQLite takes an equality on the workflow for a narrow filter, and lists over a
    large table come out of a sort of most of its rows instead of an index read in order. They
    are taken again once the number of cases has moved by a tenth (ANALYZE reads the table's
    indexes: about 0.1 s at 100,000 cases); `casework init` and every sweep call this.
    PostgreSQL's autovacuum keeps its own statistics.
    """
    if not is_sqlite():
        return
    session = db.session
    has_table = session.execute(
        sa.text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
    ).first()
    recorded = None
    if has_table:
        stat = session.execute(
            sa.text(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'cases' AND idx = 'ix_cases_listing'"
            )
        ).scalar_one_or_none()
        recorded = int(stat.split()[0]) if stat else None
    current = session.execute(sa.text("SELECT count(*) FROM cases")).scalar_one()
    if recorded is None or abs(current - recorded) > recorded // 10 + 100:
        session.execute(sa.text("PRAGMA analysis_limit=0"))
        session.execute(sa.text("ANALYZE cases"))


#: PostgreSQL's SQLSTATEs for a lock not granted in time, and a statement cancelled by a timeout.
_PG_LOCK_STATES = frozenset({"55P03", "57014", "40P01"})


def is_lock_timeout(exc: BaseException) -> bool:
    """Whether a database error means a lock was not granted in time (the database is busy)."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.OperationalError):
        return getattr(orig, "sqlite_errorcode", None) in (
            sqlite3.SQLITE_BUSY,
            getattr(sqlite3, "SQLITE_LOCKED", 6),
        ) or "locked" in str(orig)
    return getattr(orig, "sqlstate", None) in _PG_LOCK_STATES
