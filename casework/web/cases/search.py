"""The case list: search with filters, and its CSV export."""

from __future__ import annotations

from flask import abort, render_template, request

from casework.errors import InvalidFields
from casework.http.downloads import file_response
from casework.library import library
from casework.models import utcnow
from casework.services import listing
from casework.web import Page, display
from casework.web.actor import case_reader
from casework.web.cases import results
from casework.web.cases.blueprint import bp


@bp.get("/cases")
def search() -> Page:
    user = case_reader()
    args = results.shared_args(request.args)
    try:
        f = results.parse(request.args)
    except InvalidFields as exc:
        dates, errors = results.refused_date_inputs(args, exc.fields)
        return render_template(
            "cases/search.html",
            args=args,
            dates=dates,
            errors=errors,
            choices=results.filter_choices(user),
            quick=results.QUICK_FILTERS,
            page=None,
            rows=[],
        ), 400
    now = utcnow()
    page = listing.list_cases(user, f, now=now)
    return render_template(
        "cases/search.html",
        args=args,
        dates=results.date_inputs(f),
        errors={},
        choices=results.filter_choices(user),
        quick=results.QUICK_FILTERS,
        page=page,
        rows=display.case_rows(user, page.items, now),
    )


@bp.route("/cases/export.csv", methods=["GET", "POST"])
def export() -> Page:
    """The result list as CSV. The search page posts its filters in a form with its CSRF token,
    so that no other site can make an export (each one recorded) happen; a GET still works from
    Casework's own pages (see `casework.web.security`)."""
    user = case_reader()
    given = request.form if request.method == "POST" else request.args
    try:
        f = results.parse(given)
    except InvalidFields as exc:
        abort(400, description="; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items()))
    now = utcnow()
    _, text = results.export_rows(user, f, now)
    stamp = now.astimezone(library().tz).strftime("%Y-%m-%d")
    return file_response(text, "text/csv", f"cases-{stamp}.csv")
