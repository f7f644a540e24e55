"""Sign-in, sign-out, password change and the account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from casework.errors import InvalidFields, NotFound
from casework.http import identity
from casework.models import User, utcnow
from casework.services import limits, passwords, second_factor, sessions, tokens
from casework.web import Page
from casework.web.actor import actor
from casework.web.auth.blueprint import bp
from casework.web.auth.forms import CodeForm, EnrolForm, PasswordForm, SignInForm
from casework.web.auth.signin import PENDING, finish_sign_in, pending_sign_in, start_session

#: Pages a user who must change their password may still reach.
OPEN_WHILE_CHANGING = frozenset({"auth.change_password", "auth.sign_out", "auth.sign_in", "static"})
#: Pages a user who must set up two-factor sign-in may still reach.
OPEN_WHILE_ENROLLING = OPEN_WHILE_CHANGING | {"auth.two_factor"}


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


@bp.before_app_request
def require_second_factor() -> Page | None:
    """Someone whose roles need two-factor sign-in sets it up before anything else."""
    if request.endpoint in OPEN_WHILE_ENROLLING or request.path.startswith("/api/"):
        return None
    if current_user.is_authenticated and second_factor.must_enrol(current_user):
        return redirect(url_for("auth.two_factor"))
    return None


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Page:
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    form = SignInForm()
    if request.method == "POST" and form.validate():
        try:
            user = identity.authenticate(form.username.data, form.password.data)
        except identity.Throttled as exc:
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


@bp.route("/sign-in/code", methods=["GET", "POST"], endpoint="second_factor")
def second_factor_code() -> Page:
    """The second step of signing in: a code from the app, or a recovery code."""
    pending = pending_sign_in()
    if pending is None:
        session.pop(PENDING, None)
        flash("Sign in with your user name and password first.", "info")
        return redirect(url_for("auth.sign_in"))
    user, target = pending
    form = CodeForm()
    if request.method == "POST" and form.validate():
        try:
            used = identity.confirm_second_factor(user, form.code.data)
        except identity.Throttled as exc:
            g.keep_changes = True  # the failure is counted although the answer refuses
            form.code.errors = [exc.message]
            page = render_template("auth/second_factor.html", form=form)
            return page, 429, {"Retry-After": str(exc.retry_after)}
        except InvalidFields as exc:
            g.keep_changes = True
            form.code.errors = exc.fields["code"]
            return render_template("auth/second_factor.html", form=form), 401
        via = session.get(PENDING, {}).get("via", "password")
        going_on = finish_sign_in(user, target, second_factor_done=True, via=via)
        if used == "recovery":  # told in the new session, which signing in began
            flash(
                "You signed in with a recovery code; it no longer works. "
                f"{second_factor.recovery_codes_left(user)} are left.",
                "info",
            )
        return going_on
    return render_template("auth/second_factor.html", form=form)


@bp.post("/sign-out")
def sign_out() -> Page:
    if current_user.is_authenticated:
        sessions.end_sessions(actor())
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
            identity.change_password(
                user, form.current_password.data, form.new_password.data, form.confirm_password.data
            )
        except identity.Throttled as exc:
            g.keep_changes = True
            form.current_password.errors = [exc.message]
            page = render_template("auth/password.html", form=form)
            return page, 429, {"Retry-After": str(exc.retry_after)}
        except InvalidFields as exc:
            g.keep_changes = True  # a wrong current password is counted; nothing else changed
            for name, messages in exc.fields.items():
                form[name].errors = list(messages)
            return render_template("auth/password.html", form=form), 422
        start_session(user)  # this browser goes on in a new session; the others have ended
        flash("Your password is changed. Other sessions of yours have ended.", "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/password.html", form=form)


@bp.get("/account")
def account() -> str:
    user = actor()
    return render_template(
        "auth/account.html",
        user=user,
        tokens=tokens.tokens_of(user),
        sessions=sessions.active(user, g.get("session_id")),
        second_factor_required=second_factor.required(user),
        recovery_codes_left=second_factor.recovery_codes_left(user),
        now=utcnow(),
    )


#: The key in the signed cookie of the secret being set up (it is shown on the page anyway).
NEW_SECRET = "new_totp_secret"


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor() -> Page:
    """Set up an authenticator app, or replace it (which needs the password)."""
    user = actor()
    secret = session.get(NEW_SECRET)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = session[NEW_SECRET] = second_factor.new_secret()
    form = EnrolForm()
    replacing = user.second_factor is not None
    if request.method == "POST" and form.validate():
        try:
            if replacing:
                passwords.confirm_password(
                    user, form.current_password.data, identity.client_address()
                )
            codes = second_factor.enrol(user, secret, form.code.data)
        except limits.TooMany as exc:
            g.keep_changes = True
            form.current_password.errors = [exc.message]
            page = _enrol_page(user, secret, form, replacing)
            return page, 429, {"Retry-After": str(exc.retry_after)}
        except InvalidFields as exc:
            g.keep_changes = True  # a wrong password is counted; nothing else changed
            for name, messages in exc.fields.items():
                form[name].errors = list(messages)
            return _enrol_page(user, secret, form, replacing), 422
        session.pop(NEW_SECRET, None)
        return render_template("auth/recovery_codes.html", codes=codes, replaced=replacing)
    return _enrol_page(user, secret, form, replacing)


def _enrol_page(user: User, secret: str, form: EnrolForm, replacing: bool) -> str:
    return render_template(
        "auth/two_factor.html",
        form=form,
        replacing=replacing,
        qr=second_factor.qr_svg(user, secret),
        secret=second_factor.grouped(secret),
        required=second_factor.required(user),
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Page:
    user = actor()
    token = tokens.own_token(user, token_id)
    tokens.revoke_token(user, user, token)
    flash(f"The API token “{token.name}” is revoked: it no longer works.", "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/sessions/<int:session_id>/end")
def end_session(session_id: int) -> Page:
    user = actor()
    if session_id >= 2**31 or not sessions.end(user, session_id):
        raise NotFound("There is no such session of yours.")
    if session_id == g.get("session_id"):
        logout_user()
        session.clear()
        flash("This session has ended: you are signed out here.", "success")
        return redirect(url_for("auth.sign_in"))
    flash("That session has ended: that browser is signed out.", "success")
    return redirect(url_for("auth.account"))
