"""The migrations are the only way the schema is made, and they match the models exactly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from casework.extensions import db


def test_the_migrated_schema_matches_the_models(app):
    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": _include_object, "compare_type": True}
            )
            differences = compare_metadata(context, db.metadata)
    assert differences == []


def _include_object(obj, name, type_, reflected, compare_to):
    # Full-text search objects are made by the migrations for each database and not modelled.
    return not (name or "").startswith(("cases_fts", "search_vector", "ix_cases_search_vector"))


def test_a_fresh_database_is_at_the_single_head(app):
    with app.app_context():
        with db.engine.connect() as conn:
            heads = MigrationContext.configure(conn).get_current_heads()
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from casework.extensions import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    assert heads == tuple(ScriptDirectory.from_config(config).get_heads())
    assert len(heads) == 1


def test_a_database_made_by_an_earlier_release_upgrades_with_its_cases(
    empty_database_url, make_app, monkeypatch
):
    """`casework init` on a database at an older revision: each migration in turn, data kept,
    and each can be undone. Events written before the log existed become its first leaves."""
    from casework.extensions import downgrade_schema, upgrade_schema
    from casework.library import library
    from casework.models import Case, LogLeaf, User
    from casework.services.definitions import store_definition
    from casework.services.log import leaves
    from casework.services.log.verify import verify_log
    from casework.services.opening import open_case
    from casework.services.users import system_user

    app = make_app(DATABASE_URL=empty_database_url)
    with app.app_context():
        upgrade_schema("0001")
        for workflow in library().workflows:
            store_definition(workflow)
        with monkeypatch.context() as earlier:
            # An earlier release had no log to write to, and no acting Directors.
            earlier.setattr(leaves, "write_leaves", lambda connection, leaves: 0)
            earlier.setattr(User, "acting_term", lambda user, now=None: None)
            system_user()
            # Made as that release made users: the administration trail's tables come later.
            librarian = User(username="librarian")
            librarian.set_roles(["librarian_in_charge"])
            db.session.add(librarian)
            db.session.flush()
            opened = open_case(librarian, "complaint", {"summary": "Hours", "channel": "email"})
            db.session.commit()
        number = opened.number
        db.session.remove()
        upgrade_schema()
        test_the_migrated_schema_matches_the_models(app)
        refs = db.session.execute(sa.select(LogLeaf.position, LogLeaf.ref)).all()
        assert [tuple(r) for r in refs] == [(0, f"{number}/1")]
        with db.engine.connect() as conn:
            assert verify_log(conn).problems == []
        assert db.session.execute(sa.select(Case.state).where(Case.number == number)).scalar() == (
            "received"
        )
        db.session.remove()
        downgrade_schema("0001")
        upgrade_schema()
        assert db.session.execute(sa.select(sa.func.count()).select_from(Case)).scalar() == 1


def test_tokens_issued_before_they_expired_get_a_name_and_the_default_expiry(
    empty_database_url, make_app
):
    from datetime import UTC, datetime, timedelta

    from casework.extensions import upgrade_schema
    from casework.models import ApiToken

    app = make_app(DATABASE_URL=empty_database_url)
    then = datetime(2026, 1, 5, 9, 0)
    with app.app_context():
        upgrade_schema("0008")
        with db.engine.begin() as conn:
            for user_id, name in ((1, "ann"), (2, "bob")):
                conn.execute(
                    sa.text(
                        "INSERT INTO users (id, username, display_name, must_change_password, "
                        "active, session_generation, failed_logins, mail_optout, created_at) "
                        "VALUES (:id, :name, '', false, true, 0, 0, '', :at)"
                    ),
                    {"id": user_id, "name": name, "at": then},
                )
            for token_id, user_id in ((1, 1), (2, 2), (3, 1)):
                conn.execute(
                    sa.text(
                        "INSERT INTO api_tokens (id, user_id, token_hash, created_at, revoked) "
                        "VALUES (:id, :user, :hash, :at, false)"
                    ),
                    {"id": token_id, "user": user_id, "hash": f"{token_id:064d}", "at": then},
                )
        upgrade_schema()
        tokens = db.session.execute(sa.select(ApiToken).order_by(ApiToken.id)).scalars().all()
        assert [(t.user_id, t.name) for t in tokens] == [
            (1, "token 1"),
            (2, "token 1"),
            (1, "token 2"),
        ]
        soon = datetime.now(UTC) + timedelta(days=90)
        assert all(abs(t.expires_at - soon) < timedelta(minutes=5) for t in tokens)
        db.session.remove()
