"""What every benchmark shares: the machine it runs on, its database, the app, and its JSON line.

The scripts run against a SQLite file of their own (in `CASEWORK_BENCH_DIR`, by default a folder
in the system's temporary directory), or, when `CASEWORK_DATABASE_URL` names a PostgreSQL
database, in schemas of their own inside it (`casework_bench_*`), leaving its tables alone.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from flask import Flask

#: Settings of every app a benchmark builds (the secret is not a secret: loopback only).
BENCH_CONFIG: dict[str, Any] = {
    "SECRET_KEY": "casework-bench-not-secret",
    "WTF_CSRF_ENABLED": True,
    # One user drives hundreds of writes a second: the changes-a-minute limit, which is there
    # for people, is off (a person never reaches it; at 120 a minute it costs a write one
    # indexed count and one insert).
    "WRITES_PER_MINUTE": 0,
}
#: The same, for the command line and servers a benchmark starts.
BENCH_ENV = {
    "CASEWORK_SECRET_KEY": BENCH_CONFIG["SECRET_KEY"],
    "CASEWORK_WRITES_PER_MINUTE": "0",
}


def bench_dir() -> Path:
    """Where the SQLite files of the benchmarks live (large: the 100k-case one is ~1 GB)."""
    folder = Path(
        os.environ.get("CASEWORK_BENCH_DIR") or Path(tempfile.gettempdir()) / "casework-bench"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def server_url() -> str | None:
    """The PostgreSQL database to work in, from `CASEWORK_DATABASE_URL`; None for SQLite."""
    url = os.environ.get("CASEWORK_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@dataclass(frozen=True)
class Database:
    """One benchmark database: a SQLite file, or a schema in the PostgreSQL database."""

    name: str
    url: str
    dialect: str
    #: SQLite: the file. PostgreSQL: None.
    path: Path | None = None
    #: PostgreSQL: the schema. SQLite: None.
    schema: str | None = None

    def exists(self) -> bool:
        if self.path is not None:
            return self.path.exists()
        return _schema_exists(self.schema or "")

    def drop(self) -> None:
        """Remove the database (file and its WAL, or schema)."""
        if self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return
        _execute_on_server(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def rename_to(self, other: Database) -> None:
        """Give a finished database its final name (so a half-built one is never reused)."""
        other.drop()
        if self.path is not None and other.path is not None:
            self.path.replace(other.path)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return
        _execute_on_server(f'ALTER SCHEMA "{self.schema}" RENAME TO "{other.schema}"')

    def copy_to(self, other: Database) -> None:
        """A copy for a run that changes data (SQLite only; PostgreSQL runs in place)."""
        assert self.path is not None and other.path is not None
        other.drop()
        shutil.copyfile(self.path, other.path)
        # On disk before the run starts: otherwise the first checkpoint's fsync pays for writing
        # out the whole copy, in the middle of what is being measured.
        with other.path.open("rb+") as copy:
            os.fsync(copy.fileno())

    def size_bytes(self) -> int:
        if self.path is not None:
            return sum(
                Path(f"{self.path}{s}").stat().st_size
                for s in ("", "-wal")
                if Path(f"{self.path}{s}").exists()
            )
        import sqlalchemy as sa

        engine = sa.create_engine(server_url() or "")
        with engine.connect() as conn:
            size = conn.execute(
                sa.text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :schema AND c.relkind IN ('r', 'm')"
                ),
                {"schema": self.schema},
            ).scalar_one()
        engine.dispose()
        return int(size)


def database(name: str) -> Database:
    """The benchmark database called `name` (not created: see `migrate`)."""
    server = server_url()
    if server is None:
        path = bench_dir() / f"{name}.sqlite"
        return Database(name, f"sqlite:///{path}", "sqlite", path=path)
    schema = f"casework_bench_{name}".replace("-", "_")
    separator = "&" if "?" in server else "?"
    url = f"{server}{separator}options={quote(f'-csearch_path={schema}')}"
    return Database(name, url, "postgresql", schema=schema)


def _execute_on_server(statement: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(server_url() or "")
    with engine.begin() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()


def _schema_exists(schema: str) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(server_url() or "")
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
        ).first()
    engine.dispose()
    return found is not None


def make_app(db: Database, **config: Any) -> Flask:
    """A Casework app on the benchmark database."""
    from casework import create_app

    return create_app({**BENCH_CONFIG, "DATABASE_URL": db.url, **config})


def upgrade(db: Database) -> None:
    """Bring an existing database's schema up to this code's (as `casework db upgrade` does for
    an installation), so a database seeded before a migration is reused, not rebuilt."""
    from casework.extensions import db as sql
    from casework.extensions import upgrade_schema

    app = make_app(db)
    with app.app_context():
        upgrade_schema()
        sql.session.remove()
        sql.engine.dispose()


def migrate(db: Database) -> None:
    """Create the database empty, with the schema, the workflow definitions and the system user."""
    db.drop()
    if db.schema is not None:
        _execute_on_server(f'CREATE SCHEMA "{db.schema}"')
    from casework.extensions import db as sql
    from casework.extensions import upgrade_schema
    from casework.library import library
    from casework.services.definitions import store_definition
    from casework.services.users import system_user

    app = make_app(db)
    with app.app_context():
        upgrade_schema()
        for workflow in library().workflows:
            store_definition(workflow)
        system_user()
        sql.session.commit()
        sql.session.remove()
        sql.engine.dispose()


@contextmanager
def app_context(app: Flask) -> Iterator[None]:
    """An app context whose connections are closed at its end."""
    from casework.extensions import db as sql

    with app.app_context():
        try:
            yield
        finally:
            sql.session.remove()
            sql.engine.dispose()


def rss_bytes() -> int:
    """This process's resident set size now (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def cpu_check_ms() -> float:
    """Milliseconds this machine takes now for a fixed pure-Python loop (the median of five).

    These machines are shared and their speed drifts, by 50% within an hour: figures measured
    at different moments compare fairly only next to this.
    """
    times = []
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        times.append((time.perf_counter() - started) * 1000)
    return round(sorted(times)[2], 1)


def machine(db: Database | None = None) -> dict[str, Any]:
    """The machine a figure was measured on."""
    cpu = platform.processor()
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    memory = 0
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        pass
    import sqlalchemy as sa

    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(memory / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlalchemy": sa.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpu_check_ms": cpu_check_ms(),
    }
    if db is not None:
        info["database"] = db.dialect
        info["database_version"] = _database_version(db)
    return info


def _database_version(db: Database) -> str:
    import sqlalchemy as sa

    if db.dialect == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    engine = sa.create_engine(server_url() or "")
    with engine.connect() as conn:
        version = str(conn.exec_driver_sql("SHOW server_version").scalar_one())
    engine.dispose()
    return f"PostgreSQL {version}"


def report(bench: str, figures: dict[str, Any], db: Database | None = None) -> None:
    """Print the benchmark's one JSON line: its figures and the machine."""
    line = {"bench": bench, **figures, "machine": machine(db)}
    print(json.dumps(line, ensure_ascii=False), flush=True)


class Progress:
    """A progress bar on stderr (a line per tenth when stderr is not a terminal)."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 1)
        self.started = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.shown_tenth = -1

    def update(self, done: int, note: str = "") -> None:
        fraction = min(done / self.total, 1.0)
        elapsed = time.perf_counter() - self.started
        if self.tty:
            bar = "#" * int(fraction * 30)
            sys.stderr.write(
                f"\r{self.label} [{bar:<30}] {fraction:6.1%} {done:,}/{self.total:,} "
                f"{note} {elapsed:6.1f} s"
            )
            sys.stderr.flush()
        elif int(fraction * 10) > self.shown_tenth:
            self.shown_tenth = int(fraction * 10)
            sys.stderr.write(
                f"{self.label}: {fraction:.0%} {done:,}/{self.total:,} {note} {elapsed:.1f} s\n"
            )

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.flush()
