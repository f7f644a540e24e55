"""Sign-in, sign-out, password change and the account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from casework import auth
from casework.errors import InvalidFields
from casework.models import User
from casework.web import Page
from casework.web.actor import actor
from casework.web.auth import bp
from casework.web.auth.forms import PasswordForm, SignInForm

#: Pages a user who must change their password may still reach.
OPEN_WHILE_CHANGING = frozenset({"auth.change_password", "auth.sign_out", "auth.sign_in", "static"})


def safe_next(target: str | None) -> str:
    """A local address to go to after signing in; anything else goes home."""
    home = url_for("home.home")
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return home
    if any(c in target for c in "\\\r\n\t\x00") or urlsplit(target).netloc:
        return home
    return target


@bp.before_app_request
def require_new_password() -> Page | None:
    """Someone signed in with a password set by somebody else chooses their own first."""
    if request.endpoint in OPEN_WHILE_CHANGING or request.path.startswith("/api/"):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        if session.get("signed_in_via") == "sign-on":
            return None  # the password is not what they signed in with
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Page:
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    form = SignInForm()
    if request.method == "POST" and form.validate():
        try:
            user = auth.authenticate(form.username.data, form.password.data)
        except auth.Throttled as exc:
            g.keep_changes = True  # the failure must be counted although the answer refuses
            form.password.errors = [exc.message]
            page = render_template("auth/sign_in.html", form=form, next=target)
            return page, 429, {"Retry-After": str(exc.retry_after)}
        except InvalidFields as exc:
            g.keep_changes = True  # count the failed attempt
            form.password.errors = exc.fields["password"]
            return render_template("auth/sign_in.html", form=form, next=target), 401
        return finish_sign_in(user, target)
    return render_template("auth/sign_in.html", form=form, next=target)


def finish_sign_in(user: User, target: str, *, via: str = "password", mfa: bool = False) -> Page:
    """Start the session of a user who has proved who they are, by password or by sign-on.

    `mfa` records whether the sign-in was multi-factor (a provider's trusted `amr` claim).
    """
    session.clear()  # a new session at sign-in: nothing from before carries over
    login_user(user)
    session["signed_in_via"] = via
    session["mfa"] = mfa
    if user.must_change_password and via == "password":
        flash("Choose your own password before you go on.", "info")
        return redirect(url_for("auth.change_password"))
    return redirect(target)


@bp.post("/sign-out")
def sign_out() -> Page:
    if current_user.is_authenticated:
        auth.end_sessions(actor())
    logout_user()
    session.clear()
    flash("You are signed out on every device.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> Page:
    user = actor()
    form = PasswordForm()
    if request.method == "POST" and form.validate():
        try:
            auth.change_password(
                user, form.current_password.data, form.new_password.data, form.confirm_password.data
            )
        except auth.Throttled as exc:
            g.keep_changes = True
            form.current_password.errors = [exc.message]
            page = render_template("auth/password.html", form=form)
            return page, 429, {"Retry-After": str(exc.retry_after)}
        except InvalidFields as exc:
            g.keep_changes = True  # a wrong current password is counted; nothing else changed
            for name, messages in exc.fields.items():
                form[name].errors = list(messages)
            return render_template("auth/password.html", form=form), 422
        session.clear()
        login_user(user)  # this session goes on under the new generation; the others have ended
        flash("Your password is changed. Other sessions of yours have ended.", "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/password.html", form=form)


@bp.get("/account")
def account() -> str:
    user = actor()
    return render_template("auth/account.html", user=user)
