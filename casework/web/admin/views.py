"""User administration pages (administrators only)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from casework.errors import BadRequest, InvalidFields, NotFound
from casework.models import User, utcnow
from casework.services import acting, directory, second_factor, signon, tokens
from casework.services import users as accounts
from casework.services.db import begin_write
from casework.web import Page
from casework.web.actor import actor, require_role
from casework.web.admin.blueprint import bp
from casework.web.admin.forms import NewUserForm, UserForm


def administrator() -> User:
    """The signed-in administrator; a change starts its write transaction before any read."""
    if request.method == "POST":
        begin_write()
    user = actor()
    require_role(user, {"admin"}, "Only an administrator manages user accounts.")
    return user


def load_user(user_id: int) -> User:
    found = directory.user_by_id(user_id)
    if found is None or found.username == "system":
        raise NotFound("There is no such user.")
    return found


def _show_errors(form: UserForm, exc: InvalidFields) -> None:
    for name, messages in exc.fields.items():
        target = name if name in form else "roles"
        form[target].errors = list(messages)


@bp.get("/users")
def users() -> str:
    administrator()
    return render_template("admin/users.html", users=directory.accounts())


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> Page:
    admin = administrator()
    form = NewUserForm()
    if request.method == "POST" and form.validate():
        try:
            name, address = accounts.clean_profile(form.display_name.data, form.email.data)
            password = accounts.generate_password()
            user = accounts.create_user(
                form.username.data,
                list(form.roles.data or []),
                password=password,
                display_name=name,
                email=address,
                must_change_password=True,
                by=admin,
            )
        except InvalidFields as exc:
            _show_errors(form, exc)
            return render_template("admin/new_user.html", form=form), 422
        return render_template("admin/password.html", user=user, password=password, new=True)
    return render_template("admin/new_user.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> Page:
    admin = administrator()
    target = load_user(user_id)
    form = UserForm(
        display_name=target.display_name, email=target.email, roles=target.assigned_roles
    )
    if request.method == "POST" and form.validate():
        try:
            accounts.update_user(
                admin, target, form.display_name.data, form.email.data, form.roles.data
            )
        except InvalidFields as exc:
            _show_errors(form, exc)
            return user_page(target, form), 422
        flash(f"{target.username} is saved.", "success")
        return redirect(url_for("admin.user", user_id=target.id))
    return user_page(target, form)


def user_page(target: User, form: UserForm) -> str:
    return render_template(
        "admin/user.html",
        user=target,
        form=form,
        tokens=tokens.tokens_of(target),
        second_factor_required=second_factor.required(target),
        now=utcnow(),
        identities=signon.identities_of(target),
        acting_terms=acting.terms_of(target),
    )


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int) -> Page:
    admin = administrator()
    target = load_user(user_id)
    choice = request.form.get("active")
    if choice not in ("0", "1"):
        raise BadRequest("Say 1 to enable the user or 0 to disable them.")
    enable = choice == "1"
    accounts.set_active(admin, target, enable)
    state = "enabled" if enable else "disabled; every session and API token of theirs has ended"
    flash(f"{target.username} is {state}.", "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int) -> str:
    admin = administrator()
    target = load_user(user_id)
    password = accounts.reset_password(admin, target)
    return render_template("admin/password.html", user=target, password=password, new=False)


@bp.post("/users/<int:user_id>/sessions")
def end_sessions(user_id: int) -> Page:
    admin = administrator()
    target = load_user(user_id)
    accounts.end_user_sessions(admin, target)
    flash(f"Every session and API token of {target.username} has ended.", "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/second-factor")
def reset_second_factor(user_id: int) -> Page:
    admin = administrator()
    target = load_user(user_id)
    second_factor.reset(admin, target)
    flash(
        f"The two-factor sign-in of {target.username} is reset: they set up an authenticator "
        "app again at their next sign-in if their roles need one.",
        "success",
    )
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
def revoke_token(user_id: int, token_id: int) -> Page:
    admin = administrator()
    target = load_user(user_id)
    token = tokens.own_token(target, token_id)
    tokens.revoke_token(admin, target, token)
    flash(f"The API token “{token.name}” of {target.username} is revoked.", "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/sign-on/<int:identity_id>/unlink")
def unlink_sign_on(user_id: int, identity_id: int) -> Page:
    admin = administrator()
    target = load_user(user_id)
    signon.unlink(admin, target, identity_id)
    flash(
        f"The sign-on identity is unlinked from {target.username}: their next sign-on links "
        "again by their verified e-mail address.",
        "success",
    )
    return redirect(url_for("admin.user", user_id=target.id))
