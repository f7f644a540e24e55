"""Forms for signing in and changing a password."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField


class SignInForm(FlaskForm):
    username = StringField("User name")
    password = PasswordField("Password")


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password")
    new_password = PasswordField(
        "New password", description="At least 10 characters. A short sentence is easy to remember."
    )
    confirm_password = PasswordField("New password again")


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        description="The six digits your authenticator app shows, or one of your recovery codes.",
    )


class EnrolForm(FlaskForm):
    code = StringField("Code from the app", description="The six digits the app shows now.")
    current_password = PasswordField(
        "Your password", description="Replacing the app needs your password."
    )
