"""The case page: the receipt for a reporter, everything for a reader; and its print button."""

from __future__ import annotations

from flask import Response, render_template, request
from wtforms.fields.choices import SelectChoice

from casework.api import printing
from casework.models import Case, User, utcnow
from casework.presenting.words import roles_in_words
from casework.printing import packet, record
from casework.services import (
    activity,
    denials,
    evidence,
    firing,
    history,
    holds,
    loading,
    retention,
)
from casework.services.access import Level, reader_roles
from casework.services.loading import LoadedCase
from casework.services.unseen import masker
from casework.web import Page, display, standing
from casework.web.actor import actor
from casework.web.cases.blueprint import bp
from casework.web.cases.forms import (
    AssignForm,
    EvidenceForm,
    HoldForm,
    LiftHoldForm,
    LinkForm,
    NoteForm,
)
from casework.workflow import Workflow


def render_case(
    user: User,
    loaded: LoadedCase,
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
    case, workflow, access = loaded
    if access.level is Level.RECEIPT:
        readers = roles_in_words(reader_roles(workflow, case.subject_person_id))
        return render_template(
            "cases/receipt.html", case=case, workflow=workflow, readers=readers
        ), status
    now = utcnow()
    every = firing.offers(user, loaded, every=True)
    offered = [o for o in every if not (o.blocked and o.transition.hide_when_refused)]
    manage = activity.may_manage(access, workflow)
    if assign_form is None:
        assign_form = AssignForm(
            formdata=None, username=case.assignee.username if case.assignee else ""
        )
    if manage:
        assign_form.username.choices = [SelectChoice("", "Nobody")] + [
            SelectChoice(u.username, f"{u.name} ({u.username})")
            for u in activity.assignable_users(case, workflow)
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
        files=evidence.attachments(case),
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
    last = history.last_step(case)
    data = masker(user, [last.data])(last.data) if last else {}
    return standing.standing(case, workflow, data, last, refused=frozenset(refused))


@bp.get("/cases/<number>")
def case_page(number: str) -> Page:
    user = actor()  # who sees no case at all finds this one "not found" like any other
    return render_case(user, loading.view_case(user, number))


@bp.post("/cases/<number>/record.pdf")
def print_record(number: str) -> Response:
    """The print button: the case's record (or its public-records copy) as a download."""
    user = actor()
    redacted = printing.flag(request.form, "redacted")
    return printing.pdf_response(
        record.case_record_pdf(user, number, redacted=redacted), download=True
    )
