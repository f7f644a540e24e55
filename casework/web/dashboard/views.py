"""The dashboard page."""

from __future__ import annotations

from flask import render_template

from casework.models import utcnow
from casework.services import figures as counted
from casework.web.actor import case_reader
from casework.web.dashboard import figures
from casework.web.dashboard.blueprint import bp


@bp.get("/dashboard")
def dashboard() -> str:
    user = case_reader()
    now = utcnow()
    weekly = counted.opened_per_week(user, now)
    return render_template(
        "dashboard/dashboard.html",
        counts=counted.counts(user),
        overdue=counted.overdue_count(user, now),
        times=figures.time_figures(user),
        weekly=weekly,
        chart=figures.chart(weekly),
        on_hold=counted.records_count(user, now, "on_hold"),
        eligible=counted.records_count(user, now, "eligible"),
    )
