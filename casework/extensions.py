"""Flask extensions, created unbound here and bound to the app in `create_app`; Flask-Migrate
only when the schema is changed (`upgrade_schema`), as importing Alembic takes about 0.1 s that
every worker and command would otherwise pay."""

from flask import current_app
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from casework.models.base import Base
from casework.paths import PACKAGE_DIR

#: Objects stay readable after commit: a request commits once, then renders what it changed.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
login_manager = LoginManager()
csrf = CSRFProtect()
#: Where the migrations are.
MIGRATIONS = str(PACKAGE_DIR / "migrations")


def upgrade_schema(revision: str = "head") -> None:
    """Migrate the current application's database up to `revision`."""
    from flask_migrate import upgrade

    _bind_migrations()
    upgrade(directory=MIGRATIONS, revision=revision)


def downgrade_schema(revision: str) -> None:
    """Migrate the current application's database down to `revision`."""
    from flask_migrate import downgrade

    _bind_migrations()
    downgrade(directory=MIGRATIONS, revision=revision)


def _bind_migrations() -> None:
    from flask_migrate import Migrate

    if "migrate" not in current_app.extensions:
        Migrate(current_app, db, directory=MIGRATIONS, render_as_batch=True)
