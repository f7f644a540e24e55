"""The migrations are the only way the schema is made, and they match the models exactly."""

from __future__ import annotations

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

    from casework.paths import PACKAGE_DIR

    config = Config()
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    assert heads == tuple(ScriptDirectory.from_config(config).get_heads())
    assert len(heads) == 1
