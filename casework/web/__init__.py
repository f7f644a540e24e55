"""The staff web interface: server-rendered pages, thin views over the services."""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

#: What a page view returns: HTML, HTML with a status, or a response such as a redirect.
Page = str | tuple[str, int] | tuple[str, int, dict[str, str]] | Response


def register(app: Flask) -> None:
    """Register every page blueprint, the security headers and the template helpers."""
    from casework.extensions import login_manager
    from casework.web import display, security
    from casework.web.admin import bp as admin_bp
    from casework.web.administration import bp as administration_bp
    from casework.web.auth import bp as auth_bp
    from casework.web.board import bp as board_bp
    from casework.web.cases import bp as cases_bp
    from casework.web.dashboard import bp as dashboard_bp
    from casework.web.home import bp as home_bp
    from casework.web.people import bp as people_bp
    from casework.web.records import bp as records_bp
    from casework.web.registry import bp as registry_bp
    from casework.web.signon import bp as signon_bp
    from casework.web.signon.views import init as init_sign_on
    from casework.web.workflows import bp as workflows_bp

    for bp in (
        auth_bp,
        home_bp,
        cases_bp,
        dashboard_bp,
        workflows_bp,
        registry_bp,
        people_bp,
        records_bp,
        admin_bp,
        administration_bp,
        board_bp,
        signon_bp,
    ):
        app.register_blueprint(bp)
    # A form left open between desk shifts must still submit: the token lives as long as the
    # session, which ends at sign-out.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    security.init(app)
    display.init(app)
    init_sign_on(app)
