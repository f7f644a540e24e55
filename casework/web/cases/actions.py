"""The case page's own forms: notes, legal holds, evidence, links and assignment."""

from __future__ import annotations

from flask import flash, redirect, url_for

from casework.errors import CaseworkError, InvalidFields
from casework.models import Case
from casework.services import activity, evidence, holds, loading
from casework.web import Page
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
from casework.web.cases.page import render_case


def _back(case: Case, message: str, anchor: str) -> Page:
    flash(message, "success")
    return redirect(url_for("cases.case_page", number=case.number, _anchor=anchor))


@bp.post("/cases/<number>/notes")
def add_note(number: str) -> Page:
    user = actor()
    loaded = loading.load_case(user, number, write=True)
    form = NoteForm()
    if form.validate():
        try:
            activity.add_note(user, loaded, form.text.data)
        except InvalidFields as exc:
            form.text.errors = exc.fields.get("text", [exc.message])
            return render_case(user, loaded, status=422, note_form=form)
        return _back(loaded.case, "Your note is added.", "timeline")
    return render_case(user, loaded, status=400, note_form=form)


@bp.post("/cases/<number>/holds")
def place_hold(number: str) -> Page:
    user = actor()
    loaded = loading.load_case(user, number, write=True)
    form = HoldForm()
    if form.validate():
        try:
            holds.place_hold(user, loaded, form.kind.data, form.reason.data)
        except InvalidFields as exc:
            for name in ("kind", "reason"):
                getattr(form, name).errors = exc.fields.get(name, [])
            return render_case(user, loaded, status=422, hold_form=form)
        return _back(loaded.case, "The legal hold is placed.", "records")
    return render_case(user, loaded, status=400, hold_form=form)


@bp.post("/cases/<number>/holds/<int:hold_id>/lift")
def lift_hold(number: str, hold_id: int) -> Page:
    user = actor()
    loaded = loading.load_case(user, number, write=True)
    form = LiftHoldForm()
    if form.validate():
        try:
            holds.lift_hold(user, loaded, hold_id, form.reason.data)
        except InvalidFields as exc:
            form.reason.errors = exc.fields.get("reason", [exc.message])
            return render_case(user, loaded, status=422, lift_form=form, lift_hold=hold_id)
        return _back(loaded.case, "The legal hold is lifted.", "records")
    return render_case(user, loaded, status=400, lift_form=form, lift_hold=hold_id)


@bp.post("/cases/<number>/evidence")
def add_evidence(number: str) -> Page:
    user = actor()
    loaded = loading.load_case(user, number, write=True)
    form = EvidenceForm()
    upload = form.file.data if form.validate() else None
    if upload is None or not getattr(upload, "filename", None):
        form.file.errors = ["Choose a file to attach."]
        return render_case(user, loaded, status=422, evidence_form=form)
    try:
        stored = evidence.attach(user, loaded, upload.filename, upload.stream)
    except CaseworkError as exc:
        if exc.status == 403:
            raise
        form.file.errors = exc.fields.get("file", [exc.message])
        return render_case(user, loaded, status=exc.status, evidence_form=form)
    return _back(loaded.case, f"{stored.name} is attached.", "evidence")


@bp.post("/cases/<number>/links")
def add_link(number: str) -> Page:
    user = actor()
    loaded = loading.load_case(user, number, write=True)
    form = LinkForm()
    if form.validate():
        try:
            other = activity.link(user, loaded, form.number.data)
        except InvalidFields as exc:
            form.number.errors = exc.fields.get("number", [exc.message])
            return render_case(user, loaded, status=422, link_form=form)
        return _back(loaded.case, f"{loaded.case.number} is linked to {other.number}.", "links")
    return render_case(user, loaded, status=400, link_form=form)


@bp.post("/cases/<number>/assignee")
def assign(number: str) -> Page:
    user = actor()
    loaded = loading.load_case(user, number, write=True)
    form = AssignForm()
    if form.validate():
        try:
            activity.assign(user, loaded, form.username.data)
        except InvalidFields as exc:
            form.username.errors = exc.fields.get("username", [exc.message])
            return render_case(user, loaded, status=422, assign_form=form)
        case = loaded.case
        who = case.assignee.name if case.assignee else "nobody"
        return _back(case, f"{case.number} is assigned to {who}.", "assignment")
    return render_case(user, loaded, status=400, assign_form=form)
