"""The form for adding a person."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField


class PersonForm(FlaskForm):
    name = StringField("Name")
    employee_id = StringField("Employee id")
    #: Chosen from the configured branches; typed when the library lists none.
    branch = SelectField("Branch or department", choices=[], validate_choice=False)
    user = SelectField(
        "Their own user account",
        choices=[],
        validate_choice=False,
        description="If this person signs in to Casework. They will never see a case about them.",
    )
