"""A transition's form, its "check your answers" page, and the stale-page answer."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from casework.errors import CaseworkError, Conflict, Forbidden, InvalidFields, NotFound, Refused
from casework.models import Case, User
from casework.services import evidence, firing, loading, reads
from casework.services.loading import LoadedCase
from casework.web import Page, display, standing
from casework.web.actor import actor
from casework.web.cases.blueprint import bp
from casework.web.cases.forms import CHECK_BUTTONS
from casework.web.fieldforms import EVIDENCE, FieldsForm, transition_form
from casework.workflow import Workflow
from casework.workflow.definition import TransitionDef


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


@bp.route("/cases/<number>/transitions/<trigger>", methods=["GET", "POST"])
def transition(number: str, trigger: str) -> Page:
    user = actor()
    posting = request.method == "POST"
    # A form page shows what it acts on (the workflow's summary fields): a confidential case's
    # view is then recorded (`shown`); the stale-page and refusal answers show less.
    loaded = loading.load_case(
        user, number, write=posting or loading.records_views(number), shows=False
    )
    case, workflow, access = loaded
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
        offered = firing.offers(user, loaded, every=True)
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
            firing.checked(user, loaded, trigger, seen, form.values())
            return _check_page(shown, target, form)
        attached = _attach_evidence(user, loaded, form)
        firing.fire(user, loaded, trigger, seen, form.values())
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
            f"{attached} is attached as evidence."
            if attached
            else f"No {target.evidence.lower()} is attached: add it under Evidence below if you "
            "have it.",
            "success" if attached else "warning",
        )
    if target.reminder:
        flash(target.reminder, "warning")
    return redirect(url_for("cases.case_page", number=case.number))


def _attach_evidence(user: User, loaded: LoadedCase, form: FieldsForm) -> str | None:
    """Attach the evidence file sent with a transition's form, in its transaction; the file's
    name, or None when none was sent. `InvalidFields` names the form's evidence field."""
    upload = getattr(getattr(form, EVIDENCE, None), "data", None)
    if upload is None or not getattr(upload, "filename", None):
        return None
    try:
        stored = evidence.attach(user, loaded, upload.filename, upload.stream)
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
