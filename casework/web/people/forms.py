"""The form for adding a person."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField


class PersonForm(FlaskForm):
    name = StringField("Name")
    employee_id = StringField("Employee id")
    branch = StringField("Branch or department")
    user = SelectField(
        "Their own user account",
        choices=[],
        validate_choice=False,
        description="If this person signs in to Casework. They will never see a case about them.",
    )
