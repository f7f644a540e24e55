"""The home page: the signed-in user's queue."""

from __future__ import annotations

from flask import render_template

from casework.library import library
from casework.models import User, utcnow
from casework.services.acting import acting_standing
from casework.web.actor import actor
from casework.web.home.blueprint import bp
from casework.web.home.queues import assigned_open, queues_for, reported_by
from casework.workflow import Workflow


@bp.get("/")
def home() -> str:
    user = actor()
    now = utcnow()
    report = next(
        (
            w
            for w in library().workflows
            if w.access.confidential and user.roles & set(w.access.intake)
        ),
        None,
    )
    return render_template(
        "home/home.html",
        user=user,
        queues=queues_for(user, now),
        assigned=assigned_open(user, now) if "staff" in user.roles else [],
        reported=reported_by(user, now) if "staff" in user.roles else [],
        report_workflow=report,
        intake=triaged(user),
        is_staff="staff" in user.roles,
        is_admin="admin" in user.roles,
        acting=acting_standing(user, now),
    )


def triaged(user: User) -> list[Workflow]:
    """The kinds of case the user both opens and takes in when new (a queue of the first state):
    the home page offers to log one directly, e.g. a complaint for the Librarian in Charge."""
    return [
        w
        for w in library().workflows
        if not w.access.confidential
        if any(
            q.state == w.initial and user.roles & set(q.roles) & set(w.access.intake)
            for q in w.queues
        )
    ]


@bp.get("/about")
def about() -> str:
    """About Casework: the audit log's public key, for anyone who checks a checkpoint."""
    from casework.services.log.keys import public_key

    return render_template("home/about.html", user=actor(), key=public_key())
