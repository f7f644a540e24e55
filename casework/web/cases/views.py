"""Case pages: load the case as the user may see it, authorize, act, and show the result."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from casework.api import printing
from casework.errors import (
    CaseworkError,
    Conflict,
    Forbidden,
    InvalidFields,
    NotFound,
    Refused,
    TooLarge,
)
from casework.extensions import db
from casework.models import Case, User, utcnow
from casework.presenting.words import role_label, roles_in_words
from casework.printing import documents, packet
from casework.services import (
    activity,
    denials,
    firing,
    holds,
    limits,
    listing,
    loading,
    opening,
    reads,
    retention,
)
from casework.services.access import CaseAccess, Level, case_access, may_work, reader_roles
from casework.services.context import library
from casework.services.unseen import masker
from casework.web import Page, display, standing
from casework.web.actor import actor, case_reader
from casework.web.cases import results
from casework.web.cases.blueprint import bp
from casework.web.cases.forms import (
    AssignForm,
    EvidenceForm,
    HoldForm,
    LiftHoldForm,
    LinkForm,
    NoteForm,
)
from casework.web.fieldforms import EVIDENCE, FieldsForm, fields_form, transition_form
from casework.workflow import Workflow
from casework.workflow.definition import TransitionDef

# --- intake -----------------------------------------------------------------------------------


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
        sent = [activity.attach_sent_with(user, case, f.filename, f.stream) for f in _evidence()]
    except CaseworkError as exc:
        evidence = exc.fields.get("file") or ([exc.message] if isinstance(exc, TooLarge) else [])
        if workflow.confirm_intake and evidence:  # the check page again, the file refused
            clean = opening.check_intake(user, workflow.key, form.values())
            return _intake_check(workflow, form, clean, evidence), exc.status
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


# --- the case page ----------------------------------------------------------------------------


def assignable_users(case: Case, workflow: Workflow) -> list[User]:
    """Active users who may work the case (see it in full and take some step of its workflow):
    the only ones it is offered to."""
    users = db.session.execute(
        sa.select(User)
        .where(User.active.is_(True), User.username != "system")
        .order_by(User.display_name, User.username)
    ).scalars()
    return [u for u in users if may_work(case_access(u, case, workflow), workflow)]


def render_case(
    user: User,
    case: Case,
    workflow: Workflow,
    access: CaseAccess,
    *,
    status: int = 200,
    note_form: NoteForm | None = None,
    evidence_form: EvidenceForm | None = None,
    link_form: LinkForm | None = None,
    assign_form: AssignForm | None = None,
    hold_form: HoldForm | None = None,
    lift_form: LiftHoldForm | None = None,
    lift_hold: int | None = None,
) -> tuple[str, int]:
    """The case page: the receipt alone for a reporter, everything for a reader."""
    if access.level is Level.RECEIPT:
        readers = roles_in_words(reader_roles(workflow, case.subject_person_id))
        return render_template(
            "cases/receipt.html", case=case, workflow=workflow, readers=readers
        ), status
    now = utcnow()
    every = firing.offers(user, case, workflow, access, every=True)
    offered = [o for o in every if not (o.blocked and o.transition.hide_when_refused)]
    manage = activity.may_manage(access, workflow)
    if assign_form is None:
        assign_form = AssignForm(
            formdata=None, username=case.assignee.username if case.assignee else ""
        )
    if manage:
        assign_form.username.choices = [SelectChoice("", "Nobody")] + [
            SelectChoice(u.username, f"{u.name} ({u.username})")
            for u in assignable_users(case, workflow)
        ]
    state = workflow.states[case.state]
    due_note = ""
    if state.deadline is not None:
        expected = workflow.transitions.get(state.deadline.expects)
        action = expected.label if expected else state.deadline.expects
        due_note = f"{action} within {state.deadline.period}"
    forms = [
        (note_form, "text", "Note"),
        (evidence_form, "evidence-file", "Evidence file"),
        (link_form, "number", "Case number"),
        (assign_form, "username", "Assign to"),
        (hold_form, "hold-reason", "Legal hold"),
        (lift_form, f"lift{lift_hold}-reason", "Lifting a legal hold"),
    ]
    page_errors = [
        (dom_id, label, " ".join(e for f in form for e in f.errors))
        for form, dom_id, label in forms
        if form is not None and any(f.errors for f in form)
    ]
    return render_template(
        "cases/case.html",
        case=case,
        workflow=workflow,
        state=state,
        due_note=due_note,
        due_words="" if state.terminal else display.due_words(case.due_at, now),
        may_take=manage and case.assignee_id != user.id,
        page_errors=page_errors,
        overdue=case.is_overdue(now),
        fields=display.show_fields(workflow.fields, masker(user, [case.fields])(case.fields)),
        available=[o.transition for o in offered if not o.blocked],
        blocked=[(o.transition, o.blocked) for o in offered if o.blocked],
        links=activity.linked_numbers(user, case),
        reporter_history=display.case_rows(user, activity.reporter_history(user, case), now),
        files=activity.attachments(case),
        timeline=display.folded(display.timeline(case, workflow, user)[::-1]),
        standing=_standing(
            user, case, workflow, {o.transition.trigger for o in every if o.blocked}
        ),
        denied=denials.denials(user, case_id=case.id),
        manage=manage,
        note_form=note_form or NoteForm(formdata=None),
        evidence_form=evidence_form or EvidenceForm(formdata=None),
        link_form=link_form or LinkForm(formdata=None),
        assign_form=assign_form,
        eligibility=retention.case_eligibility(case, workflow),
        holds=holds.case_holds(case.id),
        may_hold=holds.may_hold(access),
        hold_form=hold_form or HoldForm(formdata=None),
        lift_form=lift_form,
        lift_hold=lift_hold,
        packet_panel=bool(workflow.release_states),
        packets=packet.packets_of(user, case) if workflow.release_states else [],
        releasable=packet.may_release(case, workflow),
    ), status


def _standing(user: User, case: Case, workflow: Workflow, refused: set[str]) -> standing.Standing:
    last = standing.last_step(case)
    data = masker(user, [last.data])(last.data) if last else {}
    return standing.standing(case, workflow, data, last, refused=frozenset(refused))


@bp.get("/cases/<number>")
def case_page(number: str) -> Page:
    user = actor()  # who sees no case at all finds this one "not found" like any other
    return render_case(user, *loading.view_case(user, number))


# --- transitions ------------------------------------------------------------------------------


def _version(raw: Any) -> int | None:
    text = raw.strip() if isinstance(raw, str) else ""
    # isdigit() alone also accepts digits int() refuses, such as "²".
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def conflict_page(case: Case, workflow: Workflow, exc: Conflict, entered: list[Any]) -> Page:
    """The stale-page answer: what the case is now, and what the user typed (not saved)."""
    return render_template(
        "cases/conflict.html",
        case=case,
        workflow=workflow,
        state=workflow.states[case.state],
        message=exc.message,
        entered=[s for s in entered if s.text],
    ), 409


#: Form names of the check page's own buttons, not fields of the transition.
CHECK_BUTTONS = ("confirmed", "change")


@bp.route("/cases/<number>/transitions/<trigger>", methods=["GET", "POST"])
def transition(number: str, trigger: str) -> Page:
    user = actor()
    posting = request.method == "POST"
    # A form page shows what it acts on (the workflow's summary fields): a confidential case's
    # view is then recorded (`shown`); the stale-page and refusal answers show less.
    case, workflow, access = loading.load_case(
        user, number, write=posting or loading.records_views(number), shows=False
    )
    loading.require_full(access)
    target = workflow.transitions.get(trigger)
    if target is None:
        raise NotFound(f"{workflow.title} cases have no such action.")
    seen = _version(request.form.get("version") if posting else request.args.get("version"))
    stale = Conflict(f"{case.number} changed since you opened it.", current=case)
    form = transition_form(target, user, seen if seen is not None else case.version)
    page = {"case": case, "workflow": workflow, "transition": target, "form": form}

    def shown(template: str = "cases/transition.html", **more: Any) -> str:
        if workflow.access.record_views:
            reads.owe_view(user, case)
        summary = standing.case_summary(user, case, workflow)
        return render_template(template, summary=summary, **page, **more)

    if not posting:
        if seen is not None and seen != case.version:
            return conflict_page(case, workflow, stale, [])
        offered = firing.offers(user, case, workflow, access, every=True)
        offer = next((o for o in offered if o.transition is target), None)
        if offer is None:
            if case.state in target.sources:  # possible now, but not for this user's roles
                raise Forbidden(f"Your role may not do this ({target.label.lower()}).")
            state = workflow.states[case.state].label.lower()
            raise Refused(f"You cannot do this ({target.label.lower()}) while it is {state}.")
        return shown(blocked=offer.blocked)
    if not form.validate():
        return shown(blocked=None), 400
    if request.form.get("change"):  # "Change" on the check page: the form again, as filled in
        return shown(blocked=None)
    before = case.state
    try:
        if target.confirm and not request.form.get("confirmed"):
            firing.checked(user, case, workflow, access, trigger, seen, form.values())
            return _check_page(shown, target, form)
        evidence = _attach_evidence(user, case, access, form)
        firing.fire(user, case, workflow, access, trigger, seen, form.values())
    except Conflict as exc:
        return conflict_page(case, workflow, exc, display.show_fields(target.fields, _given(form)))
    except (InvalidFields, Refused) as exc:
        if "version" in exc.fields:
            return conflict_page(case, workflow, stale, [])
        form.show_errors(exc)
        return shown(blocked=None), 422
    state_label = workflow.states[case.state].label.lower()
    if case.state == before:  # a step that keeps it there (a first approval, a yearly review)
        flash(f"{target.label} is recorded. {case.number} is still {state_label}.", "success")
    else:
        flash(f"{case.number} is now {state_label}.", "success")
    if target.evidence:
        flash(
            f"{evidence} is attached as evidence."
            if evidence
            else f"No {target.evidence.lower()} is attached: add it under Evidence below if you "
            "have it.",
            "success" if evidence else "warning",
        )
    if target.reminder:
        flash(target.reminder, "warning")
    return redirect(url_for("cases.case_page", number=case.number))


def _attach_evidence(user: User, case: Case, access: CaseAccess, form: FieldsForm) -> str | None:
    """Attach the evidence file sent with a transition's form, in its transaction; the file's
    name, or None when none was sent. `InvalidFields` names the form's evidence field."""
    upload = getattr(getattr(form, EVIDENCE, None), "data", None)
    if upload is None or not getattr(upload, "filename", None):
        return None
    try:
        stored = activity.attach(user, case, access, upload.filename, upload.stream)
    except CaseworkError as exc:
        if exc.status == 403:
            raise
        raise InvalidFields({EVIDENCE: exc.fields.get("file", [exc.message])}) from None
    return stored.name


def _check_page(shown: Any, target: TransitionDef, form: FieldsForm) -> str:
    """ "Check your answers": each answer with its Change button, and the form's values kept in
    hidden fields, sent again (with the version and CSRF token) when confirmed."""
    kept = [
        (name, value)
        for name, values in request.form.lists()
        if name not in ("csrf_token", "version", *CHECK_BUTTONS)
        for value in values
    ]
    given = _given(form)
    names = [f.name for f in target.fields if f.name in given]
    answers = list(zip(names, display.show_fields(target.fields, given), strict=True))
    page: str = shown("cases/check.html", answers=answers, kept=kept)
    return page


def _given(form: FieldsForm) -> dict[str, Any]:
    return {k: v for k, v in form.values().items() if v not in ("", [], None)}


# --- notes, evidence, links, assignment -------------------------------------------------------


def _back(case: Case, message: str, anchor: str) -> Page:
    flash(message, "success")
    return redirect(url_for("cases.case_page", number=case.number, _anchor=anchor))


@bp.post("/cases/<number>/notes")
def add_note(number: str) -> Page:
    user = actor()
    case, workflow, access = loading.load_case(user, number, write=True)
    form = NoteForm()
    if form.validate():
        try:
            activity.add_note(user, case, access, form.text.data)
        except InvalidFields as exc:
            form.text.errors = exc.fields.get("text", [exc.message])
            return render_case(user, case, workflow, access, status=422, note_form=form)
        return _back(case, "Your note is added.", "timeline")
    return render_case(user, case, workflow, access, status=400, note_form=form)


@bp.post("/cases/<number>/holds")
def place_hold(number: str) -> Page:
    user = actor()
    case, workflow, access = loading.load_case(user, number, write=True)
    form = HoldForm()
    if form.validate():
        try:
            holds.place_hold(user, case, access, form.kind.data, form.reason.data)
        except InvalidFields as exc:
            for name in ("kind", "reason"):
                getattr(form, name).errors = exc.fields.get(name, [])
            return render_case(user, case, workflow, access, status=422, hold_form=form)
        return _back(case, "The legal hold is placed.", "records")
    return render_case(user, case, workflow, access, status=400, hold_form=form)


@bp.post("/cases/<number>/holds/<int:hold_id>/lift")
def lift_hold(number: str, hold_id: int) -> Page:
    user = actor()
    case, workflow, access = loading.load_case(user, number, write=True)
    form = LiftHoldForm()
    if form.validate():
        try:
            holds.lift_hold(user, case, access, hold_id, form.reason.data)
        except InvalidFields as exc:
            form.reason.errors = exc.fields.get("reason", [exc.message])
            return render_case(
                user, case, workflow, access, status=422, lift_form=form, lift_hold=hold_id
            )
        return _back(case, "The legal hold is lifted.", "records")
    return render_case(user, case, workflow, access, status=400, lift_form=form, lift_hold=hold_id)


@bp.post("/cases/<number>/evidence")
def add_evidence(number: str) -> Page:
    user = actor()
    case, workflow, access = loading.load_case(user, number, write=True)
    form = EvidenceForm()
    upload = form.file.data if form.validate() else None
    if upload is None or not getattr(upload, "filename", None):
        form.file.errors = ["Choose a file to attach."]
        return render_case(user, case, workflow, access, status=422, evidence_form=form)
    try:
        stored = activity.attach(user, case, access, upload.filename, upload.stream)
    except CaseworkError as exc:
        if exc.status == 403:
            raise
        form.file.errors = exc.fields.get("file", [exc.message])
        return render_case(user, case, workflow, access, status=exc.status, evidence_form=form)
    return _back(case, f"{stored.name} is attached.", "evidence")


@bp.post("/cases/<number>/links")
def add_link(number: str) -> Page:
    user = actor()
    case, workflow, access = loading.load_case(user, number, write=True)
    form = LinkForm()
    if form.validate():
        try:
            other = activity.link(user, case, workflow, access, form.number.data)
        except InvalidFields as exc:
            form.number.errors = exc.fields.get("number", [exc.message])
            return render_case(user, case, workflow, access, status=422, link_form=form)
        return _back(case, f"{case.number} is linked to {other.number}.", "links")
    return render_case(user, case, workflow, access, status=400, link_form=form)


@bp.post("/cases/<number>/assignee")
def assign(number: str) -> Page:
    user = actor()
    case, workflow, access = loading.load_case(user, number, write=True)
    form = AssignForm()
    if form.validate():
        try:
            activity.assign(user, case, workflow, access, form.username.data)
        except InvalidFields as exc:
            form.username.errors = exc.fields.get("username", [exc.message])
            return render_case(user, case, workflow, access, status=422, assign_form=form)
        who = case.assignee.name if case.assignee else "nobody"
        return _back(case, f"{case.number} is assigned to {who}.", "assignment")
    return render_case(user, case, workflow, access, status=400, assign_form=form)


# --- search and export ------------------------------------------------------------------------


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
    response = Response(text, mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=f"cases-{stamp}.csv")
    return response


# --- printing ---------------------------------------------------------------------------------


@bp.post("/cases/<number>/record.pdf")
def print_record(number: str) -> Response:
    """The print button: the case's record (or its public-records copy) as a download."""
    user = actor()
    redacted = printing.flag(request.form, "redacted")
    return printing.pdf_response(
        documents.case_record_pdf(user, number, redacted=redacted), download=True
    )
