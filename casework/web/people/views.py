"""The people pages: a list to add to, and one person with the cases about them one may see."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from casework.api.printing import pdf_response
from casework.errors import InvalidFields, NotFound
from casework.library import library
from casework.models import Person, utcnow
from casework.printing import history
from casework.services import directory, people
from casework.web import Page
from casework.web.actor import actor, require_role
from casework.web.display import case_rows
from casework.web.people.blueprint import bp
from casework.web.people.forms import PersonForm

NOT_EDITOR = "Only the Library Director, HR or an administrator manage people."


def person_form() -> PersonForm:
    form = PersonForm()
    free = directory.users_without_person()
    branches = library().branches
    if branches:
        form.branch.choices = [SelectChoice("", "No branch or department")] + [
            SelectChoice(name, name) for name in branches
        ]
    form.user.choices = [SelectChoice("", "No user account")] + [
        SelectChoice(u.username, f"{u.name} ({u.username})") for u in free
    ]
    return form


@bp.route("/people", methods=["GET", "POST"])
def index() -> Page:
    user = actor()
    require_role(user, people.PEOPLE_EDITORS, NOT_EDITOR)
    form = person_form()
    status = 200
    if request.method == "POST" and form.validate():
        try:
            person = people.create_person(
                form.name.data, form.employee_id.data, form.branch.data, form.user.data or None
            )
        except InvalidFields as exc:
            for name, messages in exc.fields.items():
                form[name].errors = list(messages)
            status = 422
        else:
            flash(f"{person.name} is added.", "success")
            return redirect(url_for("people.person", person_id=person.id))
    text = request.args.get("q", "")[:200]
    found = people.search_people(text, limit=500)
    return render_template("people/index.html", form=form, people=found, q=text), status


def _person(person_id: int) -> Person:
    found = people.person_by_id(person_id)
    if found is None:
        raise NotFound("There is no such person.")
    return found


@bp.post("/people/<int:person_id>/separation")
def separation(person_id: int) -> Page:
    """Record or clear the day a person left (account administrators who left are flagged)."""
    user = actor()
    require_role(user, people.PEOPLE_EDITORS, NOT_EDITOR)
    found = _person(person_id)
    try:
        people.set_separation(found, request.form.get("separated_on", ""))
    except InvalidFields as exc:
        flash(" ".join(exc.fields["separated_on"]), "error")
        return redirect(url_for("people.person", person_id=found.id))
    if found.separated_on:
        flash(f"{found.name} left the library on {found.separated_on.isoformat()}.", "success")
    else:
        flash(f"{found.name} has no separation date now.", "success")
    return redirect(url_for("people.person", person_id=found.id))


@bp.get("/people/<int:person_id>")
def person(person_id: int) -> str:
    user = actor()
    require_role(user, people.PEOPLE_EDITORS, NOT_EDITOR)
    found = _person(person_id)
    about = people.cases_about(user, found)
    rows = case_rows(user, about, utcnow())
    return render_template("people/person.html", person=found, rows=rows)


@bp.post("/people/<int:person_id>/history.pdf")
def print_history(person_id: int) -> Response:
    """The print button: the person's case history as a download (HR and the Director)."""
    user = actor()
    return pdf_response(history.employee_history_pdf(user, person_id), download=True)
