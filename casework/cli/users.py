"""`casework users`: user accounts and their API tokens."""

from __future__ import annotations

import click

from casework.cli.base import fail, main, with_app


@main.group()
def users() -> None:
    """Manage user accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--password", help="Without it, a one-time password is printed.")
@click.option("--display-name", default="")
@click.option("--email")
@with_app
def users_add(
    name: str, roles: tuple[str, ...], password: str | None, display_name: str, email: str | None
) -> None:
    """Add a user NAME with one or more roles.

    Recorded in the administration trail as done by `cli:` and the operating-system user.
    """
    from casework.services.administration import cli_actor
    from casework.services.passwords import generate_password
    from casework.services.users import create_user

    split = [r.strip() for role in roles for r in role.split(",") if r.strip()]
    one_time = password is None
    password = password or generate_password()
    user = create_user(
        name,
        split,
        password=password,
        display_name=display_name,
        email=email,
        must_change_password=one_time,
        by=cli_actor(),
    )
    click.echo(f"added {user.username} ({', '.join(user.assigned_roles)})")
    if one_time:
        click.echo(f"one-time password: {password}")


@users.command("list")
@with_app
def users_list() -> None:
    """List user accounts and their roles."""
    import sqlalchemy as sa

    from casework.extensions import db
    from casework.models import User

    for user in db.session.execute(sa.select(User).order_by(User.username)).scalars():
        status = "" if user.active else " (disabled)"
        click.echo(f"{user.username:<20} {', '.join(user.assigned_roles)}{status}")


@users.command("token")
@click.argument("name")
@click.option("--name", "token_name", help='What the token is for, e.g. "reports script".')
@click.option("--days", type=int, help="Days until it expires (CASEWORK_TOKEN_DAYS, 90, if unset).")
@with_app
def users_token(name: str, token_name: str | None, days: int | None) -> None:
    """Print a new API token for user NAME (recorded in the administration trail).

    The token works once the user has chosen their own password, and ends when it expires,
    is revoked, their password changes or is reset, their sessions are ended, or they are
    disabled.
    """
    from casework.errors import InvalidFields
    from casework.services.administration import cli_actor
    from casework.services.tokens import issue_token
    from casework.services.users import find_user

    user = find_user(name)
    if user is None or not user.active:
        fail(f"no active user {name!r}")
        return
    try:
        click.echo(issue_token(user, by=cli_actor(), name=token_name, days=days))
    except InvalidFields as exc:
        fail(" ".join(f"--{field}: {' '.join(m)}" for field, m in exc.fields.items()))


@users.command("tokens")
@click.argument("name")
@with_app
def users_tokens(name: str) -> None:
    """List the API tokens of user NAME that are not revoked: number, name, expiry, last use."""
    from casework.models import utcnow
    from casework.services.tokens import tokens_of
    from casework.services.users import find_user

    user = find_user(name)
    if user is None:
        fail(f"no user {name!r}")
        return
    now = utcnow()
    for token in tokens_of(user):
        state = "expired" if token.expires_at <= now else "expires"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        click.echo(
            f"{token.id:<6} {token.name:<30} {state} {token.expires_at:%Y-%m-%d %H:%M}  "
            f"last used {used}"
        )


@users.command("revoke-token")
@click.argument("name")
@click.argument("token")
@with_app
def users_revoke_token(name: str, token: str) -> None:
    """Revoke the API token TOKEN (its name or number) of user NAME (recorded in the trail)."""
    from casework.services.administration import cli_actor
    from casework.services.tokens import find_token, revoke_token
    from casework.services.users import find_user

    user = find_user(name)
    found = find_token(user, token) if user is not None else None
    if user is None or found is None:
        fail(f"no API token {token!r} of {name!r} that is not revoked already")
        return
    revoke_token(cli_actor(), user, found)
    click.echo(f"revoked {found.name} of {user.username}")
