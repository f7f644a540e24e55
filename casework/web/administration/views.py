"""The administration trail, read by the Library Director, HR, the trustees and administrators."""

from __future__ import annotations

from flask import render_template, request

from casework.services.administration import check_trail
from casework.services.administration_reading import READERS, trail_lines
from casework.web.actor import actor, require_role
from casework.web.administration.blueprint import bp

PER_PAGE = 100


@bp.get("/administration-trail")
def trail() -> str:
    user = actor()
    require_role(
        user,
        READERS,
        "Only the Library Director, HR, the trustees and administrators read the "
        "administration trail.",
    )
    page = request.args.get("page", "1")
    number = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 100_000 else 1
    lines, total = trail_lines(number, PER_PAGE)
    check = check_trail()
    return render_template(
        "administration/trail.html",
        lines=lines,
        total=total,
        page=number,
        pages=max(1, -(-total // PER_PAGE)),
        check=check,
    )
