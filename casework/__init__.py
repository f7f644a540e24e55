"""Casework: case management for a public library's social media policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

# Flask and SQLAlchemy are imported inside the factory so that the command line starts quickly
# for commands that need neither.


def create_app(
    test_config: dict[str, Any] | None = None,
    *,
    web: bool = True,
    configured: Callable[[Flask], None] | None = None,
) -> Flask:
    """Build the Casework app: configuration, extensions, blueprints, error handlers, commands.

    Without `web`, no pages, API or request handling (a command that serves nothing starts
    sooner); `configured` is called with the app as soon as its settings are read.
    """
    from flask import Flask

    from casework.paths import resource_dir

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    configure(app, test_config)
    if configured is not None:
        configured(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    register_extensions(app)
    if web:
        register_blueprints(app)
        register_errorhandlers(app)
        register_request_transaction(app)
    return app


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from casework import config
    from casework.calendar import BusinessCalendar, parse_closures
    from casework.library import Library
    from casework.library.authorities import DEFAULT_AUTHORITIES, load_authorities
    from casework.workflow import load_registry

    app.config.update(config.DEFAULTS)
    app.config.from_prefixed_env("CASEWORK")
    if test_config:
        app.config.update(test_config)
    cfg = app.config
    config.check_sign_on(cfg)
    cfg["SQLALCHEMY_DATABASE_URI"] = config.database_url(cfg, app.instance_path)
    cfg["SECRET_KEY"] = config.secret_key(cfg, app.instance_path)
    max_upload = int(cfg["MAX_UPLOAD_MB"]) * 1024 * 1024
    # Room for the multipart envelope around one file of the largest allowed size.
    cfg["MAX_CONTENT_LENGTH"] = max_upload + 64 * 1024
    cfg.setdefault("SESSION_COOKIE_HTTPONLY", True)
    cfg.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    tz = ZoneInfo(str(cfg["TIMEZONE"]))
    app.extensions["casework"] = Library(
        workflows=load_registry(config.workflows_dir(cfg)),
        tz=tz,
        calendar=BusinessCalendar(
            tz,
            str(cfg["HOLIDAYS_COUNTRY"]),
            str(cfg["HOLIDAYS_SUBDIVISION"] or "") or None,
            parse_closures(str(cfg["CLOSURES"] or "")),
        ),
        name=str(cfg["LIBRARY_NAME"]),
        max_upload_bytes=max_upload,
        authorities=(
            load_authorities(Path(str(cfg["WITHHOLDING_AUTHORITIES_FILE"])))
            if cfg["WITHHOLDING_AUTHORITIES_FILE"]
            else DEFAULT_AUTHORITIES
        ),
        branches=config.branch_list(cfg["BRANCHES"]),
    )


def register_extensions(app: Flask) -> None:
    import casework.models  # noqa: F401  (every model on the metadata)
    import casework.notifications  # noqa: F401  (e-mail subscribes to the core's signals)
    from casework.extensions import csrf, db, login_manager
    from casework.http.identity import init_auth
    from casework.monitoring import metrics
    from casework.services.db import configure_engine

    # First of the request hooks, so its after-request hook runs last and sees the final status.
    metrics.init(app)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, float(app.config["LOCK_TIMEOUT"]))
    login_manager.init_app(app)
    init_auth(app)
    csrf.init_app(app)


def register_blueprints(app: Flask) -> None:
    from casework import web
    from casework.api import bp as api_bp
    from casework.monitoring import bp as monitoring_bp
    from casework.notifications.views import bp as notifications_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(monitoring_bp)
    web.register(app)


def register_errorhandlers(app: Flask) -> None:
    from casework.api.serialize import current_case_body
    from casework.http.refusals import register

    register(app, current_case_body)


def register_request_transaction(app: Flask) -> None:
    """One transaction per request, committed or rolled back in one place."""
    from casework.http import transaction

    transaction.register(app)


def settle() -> None:
    """Leave the objects the application holds once built out of the cycle collector's passes,
    for a process that serves it from then on.

    They live as long as the process (modules, settings, mappers, routes, templates: about
    130,000 objects), yet every full pass of the collector walks them all again: about 70 ms,
    paid by whichever request is running, every few dozen requests that build many objects
    (a list of 200 cases). Frozen, a pass walks only what requests made since. In a server
    that forks its workers, call it before the fork, so the workers share the frozen objects.
    """
    import gc

    gc.collect()
    gc.freeze()
