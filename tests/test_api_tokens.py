"""API tokens have a name, an expiry and a last use; their owner and IT list and revoke them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from webpages import Visitor

from casework.extensions import db
from casework.models import AdministrationEvent, ApiToken, User, utcnow


def token_row(app, name: str, username: str = "staff") -> ApiToken:
    with app.app_context():
        row = db.session.execute(
            sa.select(ApiToken)
            .join(User, User.id == ApiToken.user_id)
            .where(User.username == username, ApiToken.name == name)
        ).scalar_one()
        db.session.expunge(row)
        return row


def move(app, token_id: int, **times) -> None:
    with app.app_context():
        db.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(**times))
        db.session.commit()


def actions(app) -> list[tuple[str, str, dict]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(AdministrationEvent).order_by(AdministrationEvent.seq)
        ).scalars()
        return [(e.action, e.subject, e.data) for e in rows]


def test_the_cast_tokens_are_named_and_expire_in_the_default_days(app, cast):
    row = token_row(app, "token 1")
    assert row.expires_at - row.created_at == timedelta(days=90)
    assert row.last_used_at is None


def test_an_expired_token_answers_401_saying_it_expired(app, cast, api):
    assert api.get("/cases", "staff").status_code == 200
    row = token_row(app, "token 1")
    move(app, row.id, expires_at=utcnow() - timedelta(minutes=1))
    answer = api.get("/cases", "staff")
    assert answer.status_code == 401
    error = answer.get_json()["error"]
    assert error["code"] == "not_signed_in"
    assert "expired" in error["message"]
    nope = api.client.get("/api/v1/cases", headers={"Authorization": "Bearer cw_never"})
    assert "expired" not in nope.get_json()["error"]["message"]


def test_last_use_is_written_at_most_once_a_minute(app, cast, api):
    assert api.get("/cases", "staff").status_code == 200
    row = token_row(app, "token 1")
    assert row.last_used_at is not None and utcnow() - row.last_used_at < timedelta(minutes=1)
    recently = utcnow() - timedelta(seconds=30)
    move(app, row.id, last_used_at=recently)
    api.get("/cases", "staff")
    assert token_row(app, "token 1").last_used_at == recently
    earlier = utcnow() - timedelta(minutes=2)
    move(app, row.id, last_used_at=earlier)
    api.get("/cases", "staff")
    assert token_row(app, "token 1").last_used_at > recently


def test_the_owner_lists_and_revokes_a_token_on_the_account_page(app, cast, api):
    visitor = Visitor(app, "staff")
    page = visitor.get("/account")
    assert "token 1" in page.text and "Never" in page.text
    row = token_row(app, "token 1")
    other = token_row(app, "token 1", "staff2")
    assert visitor.post(f"/account/tokens/{other.id}/revoke").status_code == 404
    assert api.get("/cases", "staff2").status_code == 200, "another's token is untouched"
    done = visitor.post(f"/account/tokens/{row.id}/revoke")
    assert done.status_code == 302
    assert api.get("/cases", "staff").status_code == 401
    assert "is revoked" in visitor.get("/account").text
    assert "token 1" not in visitor.get("/account").text
    assert actions(app)[-1] == ("token_revoked", "staff", {"name": "token 1"})
    assert visitor.post(f"/account/tokens/{row.id}/revoke").status_code == 404


def test_it_revokes_a_users_token_on_the_admin_page(app, cast, api):
    admin = Visitor(app, "admin")
    row = token_row(app, "token 1")
    page = admin.get(f"/admin/users/{row.user_id}")
    assert "token 1" in page.text
    assert admin.post(f"/admin/users/{row.user_id}/tokens/{row.id}/revoke").status_code == 302
    assert api.get("/cases", "staff").status_code == 401
    assert actions(app)[-1] == ("token_revoked", "staff", {"name": "token 1"})
    staff = Visitor(app, "staff")
    assert staff.post(f"/admin/users/{row.user_id}/tokens/{row.id}/revoke").status_code == 403


def test_the_command_line_issues_lists_and_revokes_named_tokens(cli, app, cast):  # noqa: F811
    token = cli("users", "token", "staff", "--name", "reports script", "--days", "10").strip()
    assert token.startswith("cw_")
    listed = cli("users", "tokens", "staff")
    assert "reports script" in listed and "token 1" in listed
    row = token_row(app, "reports script")
    assert row.expires_at - row.created_at == timedelta(days=10)
    issued = [a for a in actions(app) if a[0] == "token_issued"][-1]
    assert issued[2]["name"] == "reports script"
    client = app.test_client()
    answer = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert cli("users", "token", "staff").startswith("cw_")  # unnamed: numbered by its place
    assert "token 3" in cli("users", "tokens", "staff")
    same = cli("users", "token", "staff", "--name", "reports script", code=1)
    assert "already has a token named" in same
    assert "--days" in cli("users", "token", "staff", "--days", "0", code=1)
    assert "revoked reports script" in cli("users", "revoke-token", "staff", "reports script")
    answer = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert "reports script" not in cli("users", "tokens", "staff")
    cli("users", "revoke-token", "staff", "reports script", code=1)
