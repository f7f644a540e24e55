"""The `casework` command line: the command group, and one module per group of commands.

Flask, SQLAlchemy and WeasyPrint are imported only by the commands that need them, so that
`casework --help` and `casework workflows check` answer at once.
"""

from casework.cli import (  # noqa: F401  (each adds its commands to `main`)
    audit,
    backups,
    definitions,
    people,
    records,
    reports,
    retention,
    serving,
    sweep,
    tallies,
    users,
)
from casework.cli.base import main
from casework.cli.definitions import workflows

__all__ = ["main", "workflows"]
