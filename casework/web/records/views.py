"""Pages of records management: every legal hold, the cases due for disposal, disposal batches."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from casework.errors import Refused
from casework.http.downloads import file_response
from casework.models import User
from casework.printing.certificate import certificate_pdf
from casework.services import disposal, holds
from casework.services.db import begin_write
from casework.web import Page
from casework.web.actor import actor
from casework.web.records.blueprint import bp


@bp.get("/holds")
def holds_page() -> Page:
    user = actor()
    in_force = request.args.get("in_force", "") == "1"
    found = holds.visible_holds(user, in_force_only=in_force)
    return render_template("records/holds.html", holds=found, in_force=in_force)


def _officer() -> User:
    user = actor()
    disposal.require_officer(user)
    return user


def _series(due: list[disposal.Due]) -> list[dict[str, Any]]:
    """The due cases grouped by record series (schedule number), for the page's tables."""
    today = disposal.today_for()
    groups: dict[str, dict[str, Any]] = {}
    for d in due:
        rule = d.eligibility.rule
        if rule is None:
            continue
        group = groups.setdefault(
            rule.schedule, {"rule": rule, "now": [], "soon": [], "preparable": 0}
        )
        if d.eligibility.eligible(today):
            group["now"].append(d)
            group["preparable"] += 0 if d.held else 1
        else:
            group["soon"].append(d)
    return [groups[k] for k in sorted(groups)]


@bp.get("/retention")
def retention() -> Page:
    user = _officer()
    today = disposal.today_for()
    due = disposal.due_cases(user, today)
    return render_template(
        "records/retention.html",
        series=_series(due),
        batches=disposal.batches(user),
        today=today,
        ahead=disposal.AHEAD_DAYS,
    )


@bp.post("/retention/batches")
def prepare() -> Page:
    user = _officer()
    begin_write()
    schedule = request.form.get("schedule", "")
    try:
        batch = disposal.prepare_batch(user, schedule, certificate_pdf)
    except Refused as exc:
        flash(exc.message, "error")
        return redirect(url_for("records.retention"))
    flash(
        f"Disposal batch {batch.id} is prepared: send its certificate, then confirm it from "
        f"{batch.wait_until.isoformat()}.",
        "success",
    )
    return redirect(url_for("records.batch", batch_id=batch.id))


@bp.get("/retention/batches/<int:batch_id>")
def batch(batch_id: int) -> Page:
    user = _officer()
    found = disposal.load_batch(user, batch_id)
    tombstones = disposal.tombstones(user, found.numbers)
    return render_template(
        "records/batch.html",
        batch=found,
        tombstones=tombstones,
        today=disposal.today_for(),
    )


@bp.get("/retention/batches/<int:batch_id>/certificate.pdf")
def certificate(batch_id: int) -> Response:
    user = _officer()
    found = disposal.load_batch(user, batch_id)
    filename = f"disposal-certificate-{found.id}.pdf"
    return file_response(found.certificate, "application/pdf", filename)


@bp.post("/retention/batches/<int:batch_id>/confirm")
def confirm(batch_id: int) -> Page:
    user = _officer()
    begin_write()
    found = disposal.load_batch(user, batch_id, write=True)
    try:
        done = disposal.confirm_batch(user, found)
    except Refused as exc:
        flash(exc.message, "error")
        return redirect(url_for("records.batch", batch_id=batch_id))
    flash(f"{len(done.disposed)} case(s) disposed of.", "success")
    for reason in done.kept:
        flash(f"Kept: {reason}", "error")
    return redirect(url_for("records.batch", batch_id=batch_id))
