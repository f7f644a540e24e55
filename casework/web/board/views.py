"""The Board's monthly report (page, CSV, PDF) and the acting Director page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from casework.errors import InvalidFields
from casework.http.downloads import file_response
from casework.library import library
from casework.models import User, utcnow
from casework.printing.board import board_report_pdf
from casework.services import acting, board_report, directory
from casework.services.board_report.csv_file import csv_text
from casework.services.board_report.months import choose_period
from casework.services.db import begin_write
from casework.web import Page
from casework.web.actor import actor
from casework.web.board.blueprint import bp


def _report(user: User, given: Any) -> board_report.BoardReport:
    board_report.require_sections(user)
    period = choose_period(given.get("month"), given.get("from"), given.get("until"))
    return board_report.build_report(user, period)


@bp.get("/board-report")
def report_page() -> Page:
    """The report for the months asked for (the last full month by default)."""
    user = actor()
    board_report.require_sections(user)
    try:
        report = _report(user, request.args)
    except InvalidFields as exc:
        errors = [(f"field-{k}", k.capitalize(), " ".join(v)) for k, v in exc.fields.items()]
        return render_template(
            "board/report.html", report=None, errors=errors, given=request.args
        ), 400
    begin_write()
    board_report.record_read(user, report, "page", at=report.generated_at)
    return render_template("board/report.html", report=report, errors=[], given=request.args)


def _filename(report: board_report.BoardReport, ext: str) -> str:
    period = report.period
    months = (
        period.first_key
        if period.first == period.last
        else f"{period.first_key}-to-{period.last_key}"
    )
    return f"board-report-{months}.{ext}"


@bp.post("/board-report.csv")
def report_csv_download() -> Response:
    """The report as CSV (a form with its CSRF token, so no other site makes a read happen)."""
    user = actor()
    begin_write()
    report = _report(user, request.form)
    board_report.record_read(user, report, "csv", at=report.generated_at)
    return file_response(csv_text(report), "text/csv", _filename(report, "csv"))


@bp.post("/board-report.pdf")
def report_pdf_download() -> Response:
    """The report as a PDF download."""
    user = actor()
    begin_write()
    report = _report(user, request.form)
    board_report.record_read(user, report, "pdf", at=report.generated_at)
    pdf = board_report_pdf(user, report)
    return file_response(pdf, "application/pdf", _filename(report, "pdf"))


# --- acting Director ----------------------------------------------------------------------------


class ActingForm(FlaskForm):
    user = SelectField("Who will act as Library Director", validate_choice=False)
    from_day = StringField(
        "First day", description="They act from the start of this day (library time)."
    )
    until_day = StringField("Last day", description="They act until the end of this day.")
    reason = TextAreaField("Why", description="For example: “Director on annual leave”.")


def _candidates(namer: User) -> list[SelectChoice]:
    """Active members of staff who are not Directors already, nor the one naming."""
    choices = [SelectChoice("", "Choose…")]
    for u in directory.active_users_but(namer):
        held = set(u.assigned_roles)
        if "director" in held or not held - {"admin"}:
            continue
        choices.append(SelectChoice(u.username, f"{u.name} ({u.username})"))
    return choices


def _acting_page(namer: User, form: ActingForm, status: int = 200) -> Page:
    now = utcnow()
    terms = acting.in_force_or_coming(now)
    names = directory.users_by_id({t.user_id for t in terms} | {t.named_by_id for t in terms})
    html = render_template("board/acting.html", form=form, terms=terms, names=names, now=now)
    return (html, status) if status != 200 else html


@bp.route("/acting-director", methods=["GET", "POST"])
def acting_director() -> Page:
    """Name an acting Library Director for dates; see the terms in force and to come."""
    if request.method == "POST":
        begin_write()
    user = actor()
    acting.require_namer(user)
    form = ActingForm()
    form.user.choices = _candidates(user)
    if request.method == "GET":
        today = utcnow().astimezone(library().tz).date()
        form.from_day.data = today.isoformat()
        form.until_day.data = (today + timedelta(days=13)).isoformat()
        return _acting_page(user, form)
    form.validate()
    try:
        term = acting.name_acting(
            user,
            form.user.data,
            form.from_day.data,
            form.until_day.data,
            form.reason.data,
        )
    except InvalidFields as exc:
        for field in form:
            if field.type != "CSRFTokenField":
                field.errors = list(exc.fields.get(field.name, []))
        return _acting_page(user, form, 422)
    named = directory.user_by_id(term.user_id)
    flash(
        f"{named.name if named else 'They'} will act as Library Director from "
        f"{term.from_day.isoformat()} until {term.until_day.isoformat()}. The administration "
        "trail records it.",
        "success",
    )
    return redirect(url_for("board.acting_director"))


@bp.post("/acting-director/<int:term_id>/end")
def end_acting(term_id: int) -> Page:
    """End a term now, or cancel one to come."""
    begin_write()
    user = actor()
    acting.require_namer(user)
    acting.end_term(user, term_id if term_id < 2**31 else 0)
    flash("The acting Director term has ended. The administration trail records it.", "success")
    return redirect(url_for("board.acting_director"))
