"""The dashboard page."""

from __future__ import annotations

from flask import render_template

from casework.models import utcnow
from casework.web.actor import case_reader
from casework.web.dashboard import figures
from casework.web.dashboard.blueprint import bp


@bp.get("/dashboard")
def dashboard() -> str:
    user = case_reader()
    now = utcnow()
    weekly = figures.opened_per_week(user, now)
    return render_template(
        "dashboard/dashboard.html",
        counts=figures.counts(user),
        overdue=figures.overdue_count(user, now),
        times=figures.time_figures(user),
        weekly=weekly,
        chart=figures.chart(weekly),
        on_hold=figures.records_count(user, now, "on_hold"),
        eligible=figures.records_count(user, now, "eligible"),
    )
