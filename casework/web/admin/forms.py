"""Forms for adding and changing user accounts."""

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice

from casework.workflow.roles import ROLE_LABELS, ROLES

ROLE_CHOICES = [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES if r != "system"]


class UserForm(FlaskForm):
    display_name = StringField("Full name")
    email = StringField("E-mail", description="Where deadline reminders are sent. Optional.")
    roles = SelectMultipleField("Roles", choices=ROLE_CHOICES, validate_choice=False)


class NewUserForm(UserForm):
    username = StringField(
        "User name",
        description="Lower-case letters, digits, dots, dashes or underscores. It never changes.",
    )
