"""Forms built from a workflow's field definitions: intake forms and transition forms.

WTForms gathers the input and checks the CSRF token; the engine (`validate_fields`) judges the
values, and its messages are put back beside the fields they name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from casework.errors import CaseworkError
from casework.library import library
from casework.models import User
from casework.services import choices, directory, people
from casework.workflow.definition import FieldDef, TransitionDef

#: Form attributes are prefixed so a field name can never shadow a method of the form.
PREFIX = "f_"
#: Up to this many choices show as radio buttons; more become a drop-down list.
MAX_RADIOS = 5
#: The evidence file a transition's form may ask for, and its element's id.
EVIDENCE = "evidence"
EVIDENCE_ID = "field-evidence"


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    #: The policy text behind this choice, shown beside it.
    clause: str | None = None


@dataclass
class Placed:
    """A field as the form template lays it out."""

    field: Any
    definition: FieldDef
    widget: str
    options: tuple[Option, ...] = ()

    @property
    def dom_id(self) -> str:
        return f"field-{self.definition.name}"

    @property
    def required(self) -> bool:
        """Marked as required: by the workflow, or in forms only (`required_in_form`)."""
        return self.definition.required or self.definition.required_in_form

    @property
    def conditions(self) -> dict[str, list[str]]:
        """The values of other fields this one applies for (`only_when`, `shown_when`): the
        page's script hides it while they do not hold; the server judges anyway."""
        d = self.definition
        return {k: list(v) for k, v in {**d.only_when, **d.shown_when}.items()}


def _options(f: FieldDef, actor: User) -> tuple[Option, ...]:
    if f.type == "yesno":
        return (Option("yes", "Yes"), Option("no", "No"))
    if f.type == "branch":
        return tuple(Option(name, name) for name in library().branches)
    if f.type in ("choice", "multichoice"):
        return tuple(Option(c.value, c.label, c.clause) for c in f.choices)
    if f.type == "person":
        return tuple(
            Option(str(p.id), f"{p.name} — {p.branch or 'no branch'} ({p.employee_id})")
            for p in people.everyone()
        )
    if f.type == "case" and f.workflow:
        rows = choices.cases_to_name(actor, f.workflow, f.states)
        return tuple(Option(number, f"{number} — {title}") for number, title in rows)
    if f.type == "usernames":
        return tuple(
            Option(u.username, f"{u.name} ({u.username})") for u in directory.active_users()
        )
    return ()


def _widget(f: FieldDef, options: Sequence[Option]) -> str:
    if f.type in ("multichoice", "usernames"):
        return "checkboxes"
    if f.type == "yesno":
        return "radios"
    if f.type == "choice":
        clauses = any(o.clause for o in options)
        return "radios" if clauses or len(options) <= MAX_RADIOS else "select"
    if f.type in ("person", "case") or (f.type == "branch" and options):
        return "select"
    return {"textarea": "textarea", "url": "url", "date": "date", "datetime": "datetime-local"}.get(
        f.type, "text"
    )


def _wtforms_field(f: FieldDef, widget: str, options: Sequence[Option]) -> Field:
    common: dict[str, Any] = {"label": f.label, "description": f.help, "name": f.name}
    pairs = [SelectChoice(o.value, o.label) for o in options]
    if widget == "checkboxes":
        return SelectMultipleField(choices=pairs, validate_choice=False, **common)
    if widget == "radios":
        return RadioField(choices=pairs, validate_choice=False, **common)
    if widget == "select":
        return SelectField(choices=[SelectChoice("", "")] + pairs, validate_choice=False, **common)
    if widget == "textarea":
        return TextAreaField(**common)
    return StringField(**common)


class FieldsForm(FlaskForm):
    """A form of workflow fields; `placed` lists them in order for the template."""

    placed: list[Placed]
    definitions: tuple[FieldDef, ...]

    def values(self) -> dict[str, Any]:
        """The submitted values by field name, as the engine takes them."""
        out: dict[str, Any] = {}
        for item in self.placed:
            data = item.field.data
            if item.widget == "checkboxes":
                data = [v for v in (data or []) if isinstance(v, str) and v]
            elif data is None:
                data = ""
            out[item.definition.name] = data
        return out

    def show_errors(self, exc: CaseworkError) -> None:
        """Put the engine's messages beside the fields they name; the rest above the form."""
        names = {item.definition.name: item for item in self.placed}
        evidence = getattr(self, EVIDENCE, None)
        for name, messages in exc.fields.items():
            if name in names:
                names[name].field.errors = list(messages)
            elif name == EVIDENCE and evidence is not None:
                evidence.errors = list(messages)
            else:
                self.form_errors.append(" ".join(messages))
        if not exc.fields:
            self.form_errors.append(exc.message)

    @property
    def error_list(self) -> list[tuple[str, str, str]]:
        """(dom id, label, message) of each field with an error, for the summary at the top."""
        found = [
            (item.dom_id, item.definition.label, " ".join(item.field.errors))
            for item in self.placed
            if item.field.errors
        ]
        evidence = getattr(self, EVIDENCE, None)
        if evidence is not None and evidence.errors:
            found.append((EVIDENCE_ID, evidence.label.text, " ".join(evidence.errors)))
        return found


def fields_form(
    defs: Sequence[FieldDef],
    actor: User,
    *,
    name: str = "FieldsForm",
    extra: Mapping[str, Field] | None = None,
    data: Mapping[str, Any] | None = None,
) -> FieldsForm:
    """A form for `defs` bound to the current request (POST data when there is some)."""
    layout = []
    attrs: dict[str, Any] = dict(extra or {})
    for f in defs:
        options = _options(f, actor)
        widget = _widget(f, options)
        attrs[PREFIX + f.name] = _wtforms_field(f, widget, options)
        layout.append((f, widget, options))
    form_class = type(name, (FieldsForm,), attrs)
    form: FieldsForm = form_class(data={PREFIX + k: v for k, v in (data or {}).items()})
    form.definitions = tuple(defs)
    form.placed = [
        Placed(form[PREFIX + f.name], f, widget, options) for f, widget, options in layout
    ]
    return form


def transition_form(transition: TransitionDef, actor: User, version: int | None) -> FieldsForm:
    """A transition's form: its fields, the case version the user saw, and the evidence file
    the transition asks for, if any."""
    extra: dict[str, Field] = {
        "version": HiddenField(default=str(version) if version is not None else "")
    }
    if transition.evidence:
        extra[EVIDENCE] = FileField(
            transition.evidence, description=transition.evidence_help, name=EVIDENCE
        )
    return fields_form(transition.fields, actor, name="TransitionForm", extra=extra)
