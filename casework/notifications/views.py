"""The notification pages: each user's e-mail choices, and the outbox for the administrator."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from casework.errors import Forbidden, InvalidFields, NotFound, NotSignedIn
from casework.extensions import db
from casework.models import OutboxMessage, User, utcnow
from casework.notifications.delivery import requeue
from casework.notifications.outbox import undelivered
from casework.notifications.preferences import kinds_for, receives, set_preferences
from casework.notifications.smtp import smtp_settings
from casework.presenting.words import local_time
from casework.services.db import begin_write

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def signed_in() -> User:
    if not current_user.is_authenticated:
        raise NotSignedIn("Sign in to see that page.")
    user: User = current_user._get_current_object()
    return user


def require_admin(user: User) -> None:
    if "admin" not in user.roles:
        raise Forbidden("Only an administrator may see the outbox.")


def mail_server() -> tuple[str | None, str | None]:
    """The configured mail server as the admin may see it (no password), or why it is unusable."""
    url = current_app.config.get("SMTP_URL")
    if not url:
        return None, "No mail server is set (CASEWORK_SMTP_URL): messages wait in the outbox."
    try:
        return smtp_settings(str(url)).describe(), None
    except ValueError as exc:
        return None, f"CASEWORK_SMTP_URL is not usable: {exc}."


@bp.route("/preferences", methods=["GET", "POST"])
def preferences() -> Response | str:
    user = signed_in()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        begin_write()
        try:
            set_preferences(user, request.form.getlist("kind"))
        except InvalidFields as exc:
            errors = exc.fields
        else:
            flash("Your e-mail choices are saved.", "success")
            return redirect(url_for(".preferences"))
    page = render_template(
        "notifications/preferences.html",
        user=user,
        kinds=kinds_for(user),
        receives=receives(user),
        errors=errors,
    )
    return Response(page, status=422) if errors else page


@bp.get("/outbox")
def outbox() -> str:
    require_admin(signed_in())
    rows, counts = undelivered()
    server, problem = mail_server()
    return render_template(
        "notifications/outbox.html",
        rows=rows,
        counts=counts,
        server=server,
        problem=problem,
        mail_from=current_app.config.get("MAIL_FROM"),
        when=local_time,
    )


@bp.post("/outbox/<int:message_id>/retry")
def retry(message_id: int) -> Response:
    require_admin(signed_in())
    begin_write()
    # Ids past the column's range would overflow the database driver: no such message.
    message = db.session.get(OutboxMessage, message_id) if message_id < 2**31 else None
    if message is None or message.status != "failed":
        raise NotFound("There is no such failed message.")
    requeue(message, utcnow())
    flash(f"The message to {message.recipient} will be sent again at the next sweep.", "success")
    return redirect(url_for(".outbox"))


@bp.post("/outbox/retry-failed")
def retry_failed() -> Response:
    require_admin(signed_in())
    begin_write()
    now = utcnow()
    failed = db.session.execute(
        db.select(OutboxMessage).where(OutboxMessage.status == "failed")
    ).scalars()
    count = 0
    for message in failed:
        requeue(message, now)
        count += 1
    flash(f"{count} failed message(s) will be sent again at the next sweep.", "success")
    return redirect(url_for(".outbox"))
