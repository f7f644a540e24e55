"""The library this app serves, as configured: its workflows, time zone, calendar, name, upload
limit, branches and the legal authorities a withholding may cite (`authorities`)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app

from casework.calendar import BusinessCalendar
from casework.library.authorities import DEFAULT_AUTHORITIES, Authority
from casework.workflow import Workflow, WorkflowRegistry


@dataclass(frozen=True)
class Library:
    """Loaded once per app: the workflows and the settings derived from configuration."""

    workflows: WorkflowRegistry
    tz: ZoneInfo
    calendar: BusinessCalendar
    name: str
    max_upload_bytes: int
    #: The legal authorities a withholding may cite (`services.authorities`).
    authorities: tuple[Authority, ...] = DEFAULT_AUTHORITIES
    #: The branches and departments a `branch` field and a person's branch are chosen from
    #: (empty: typed freely).
    branches: tuple[str, ...] = ()

    def workflow(self, key: str) -> Workflow:
        return self.workflows.get(key)


def library() -> Library:
    """The current app's `Library`."""
    lib: Library = current_app.extensions["casework"]
    return lib
