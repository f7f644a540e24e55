"""Opening a case: the choice of forms, the intake form, and its "check your answers" page."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from casework.errors import CaseworkError, NotFound, TooLarge
from casework.library import library
from casework.models import User, utcnow
from casework.presenting.words import role_label, roles_in_words
from casework.services import evidence, limits, opening
from casework.services.access import reader_roles
from casework.web import Page, display
from casework.web.actor import case_reader
from casework.web.cases.blueprint import bp
from casework.web.cases.forms import CHECK_BUTTONS
from casework.web.fieldforms import FieldsForm, fields_form
from casework.workflow import Workflow


def openable(user: User) -> list[Workflow]:
    """The workflows whose cases the user may open."""
    return [w for w in library().workflows if user.roles & set(w.access.intake)]


@bp.get("/cases/new")
def new_case() -> str:
    user = case_reader()
    return render_template("cases/new.html", workflows=openable(user))


@bp.route("/cases/new/<key>", methods=["GET", "POST"])
def intake(key: str) -> Page:
    user = case_reader()
    workflow = next((w for w in openable(user) if w.key == key), None)
    if workflow is None:
        raise NotFound("There is no such kind of case that you can open.")
    posting = request.method == "POST"
    form = fields_form(
        workflow.fields, user, name="IntakeForm", data=None if posting else _received_now(workflow)
    )
    page = {
        "workflow": workflow,
        "form": form,
        "readers": roles_in_words(workflow.access.readers),
        "stand_ins": [
            (role_label(role), role_label(deputy))
            for role, deputy in workflow.access.stand_in.items()
        ],
    }
    if not posting:
        return render_template("cases/intake.html", **page)
    if not form.validate():
        return render_template("cases/intake.html", **page), 400
    if request.form.get("change"):  # "Change" on the check page: the form again, as filled in
        return render_template("cases/intake.html", **page)
    checking = workflow.confirm_intake and not request.form.get("confirmed")
    try:
        if checking:
            clean = opening.check_intake(user, workflow.key, form.values())
            return _intake_check(workflow, form, clean)
        case = opening.open_case(
            user, workflow.key, form.values(), limited=True, take=True, form=True
        )
        sent = [evidence.attach_sent_with(user, case, f.filename, f.stream) for f in _evidence()]
    except CaseworkError as exc:
        refused = exc.fields.get("file") or ([exc.message] if isinstance(exc, TooLarge) else [])
        if workflow.confirm_intake and refused:  # the check page again, the file refused
            clean = opening.check_intake(user, workflow.key, form.values())
            return _intake_check(workflow, form, clean, refused), exc.status
        form.show_errors(exc)
        shown = render_template("cases/intake.html", **page)
        if isinstance(exc, limits.TooMany):  # the form kept, the limit said above it
            return shown, 429, {"Retry-After": str(exc.retry_after)}
        return shown, 422
    files = f" with {len(sent)} evidence file{'s' if len(sent) != 1 else ''}" if sent else ""
    taken = " and assigned to you" if case.assignee_id == user.id else ""
    flash(f"{case.number} is opened{files}{taken}.", "success")
    return redirect(url_for("cases.case_page", number=case.number))


def _received_now(workflow: Workflow) -> dict[str, str]:
    """A new form's "received on": now, in the library's time, as the browser's field shows it."""
    if workflow.received_field is None:
        return {}
    now = utcnow().astimezone(library().tz).strftime("%Y-%m-%dT%H:%M")
    return {workflow.received_field: now}


def _evidence() -> list[Any]:
    """The evidence files sent with a new case (an empty file input sends one without a name)."""
    return [f for f in request.files.getlist("evidence") if f and f.filename]


def _intake_check(
    workflow: Workflow,
    form: FieldsForm,
    clean: dict[str, Any],
    evidence_errors: list[str] | None = None,
) -> str:
    """ "Check your answers" before a report is sent: each answer with its Change button, the
    form's values kept in hidden fields, who will read it, and the evidence files to send."""
    kept = [
        (name, value)
        for name, values in request.form.lists()
        if name not in ("csrf_token", *CHECK_BUTTONS)
        for value in values
    ]
    names = [f.name for f in workflow.fields if f.name in clean]
    answers = list(zip(names, display.show_fields(workflow.fields, clean), strict=True))
    subject = clean.get(workflow.access.subject_field) if workflow.access.subject_field else None
    return render_template(
        "cases/intake_check.html",
        workflow=workflow,
        form=form,
        answers=answers,
        kept=kept,
        readers=roles_in_words(reader_roles(workflow, subject)),
        evidence_errors=evidence_errors or [],
        max_mb=library().max_upload_bytes // (1024 * 1024),
    )
