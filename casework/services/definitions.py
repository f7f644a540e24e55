"""The workflow definitions cases live under: stored once each, found again by digest."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from casework.errors import Unavailable
from casework.extensions import db
from casework.library import library
from casework.models import Case, WorkflowDefinition, utcnow
from casework.services.db import is_sqlite
from casework.workflow import Workflow


def store_definition(workflow: Workflow) -> None:
    """Make sure the database holds this workflow definition (stored the first time it is used).

    Raises `Unavailable` when the file changed but kept its version number: cases opened under
    the old text would otherwise change rules under their feet.
    """
    found = db.session.execute(
        sa.select(WorkflowDefinition.id).where(WorkflowDefinition.digest == workflow.digest)
    ).first()
    if found is not None:
        return
    clash = db.session.execute(
        sa.select(WorkflowDefinition.id).where(
            WorkflowDefinition.key == workflow.key, WorkflowDefinition.version == workflow.version
        )
    ).scalar_one_or_none()
    if clash is not None:
        raise Unavailable(
            f"The {workflow.key} workflow file changed but still says version {workflow.version}; "
            "an administrator must give it a new version number."
        )
    insert = postgresql.insert if not is_sqlite() else sqlite.insert
    db.session.execute(
        insert(WorkflowDefinition)
        .values(
            key=workflow.key,
            version=workflow.version,
            digest=workflow.digest,
            source_text=workflow.source_text,
            first_seen_at=utcnow(),
        )
        .on_conflict_do_nothing()
    )


def workflow_of(case: Case) -> Workflow:
    """The definition a case lives under (the version it was opened with)."""
    return definition_by_digest(case.definition_digest)


def definition_by_digest(digest: str) -> Workflow:
    """The definition with this digest. The registry holds it by digest; a version the running
    app has not loaded is parsed from the text the database stored."""

    def stored_text() -> str:
        text: str = db.session.execute(
            sa.select(WorkflowDefinition.source_text).where(WorkflowDefinition.digest == digest)
        ).scalar_one()
        return text

    return library().workflows.definition(digest, stored_text)
