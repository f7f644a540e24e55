"""The case page's own forms: note, evidence, link and assignment."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from casework.models.records import HOLD_KINDS

#: Form names of the "check your answers" pages' own buttons, not fields of the form checked.
CHECK_BUTTONS = ("confirmed", "change")


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Note", description="Notes are added to the timeline and can never be edited or removed."
    )


class EvidenceForm(FlaskForm):
    file = FileField(
        "Evidence file", description="A screenshot or document: PNG, JPEG, PDF or plain text."
    )


class LinkForm(FlaskForm):
    number = StringField("Case number", description="For example CMP-2026-0042.")


class AssignForm(FlaskForm):
    username = SelectField("Assign to", choices=[], validate_choice=False)


class HoldForm(FlaskForm):
    kind = SelectField(
        "Why the case is held",
        choices=[SelectChoice("", "Choose…")]
        + [SelectChoice(value, label) for value, label in HOLD_KINDS.items()],
        validate_choice=False,
        name="hold-kind",
    )
    reason = TextAreaField(
        "Reason",
        description="The matter and its reference: the lawsuit, the request, the inquiry.",
        name="hold-reason",
    )


class LiftHoldForm(FlaskForm):
    reason = TextAreaField("Why the hold ends", name="lift-reason")
