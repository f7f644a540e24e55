"""The case page's own forms: note, evidence, link and assignment."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField


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
