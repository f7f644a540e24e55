"""Pages of records management: every legal hold, the cases due for disposal, disposal batches."""

from __future__ import annotations

from flask import render_template, request

from casework.services import holds
from casework.web import Page
from casework.web.actor import actor
from casework.web.records import bp


@bp.get("/holds")
def holds_page() -> Page:
    user = actor()
    in_force = request.args.get("in_force", "") == "1"
    found = holds.visible_holds(user, in_force_only=in_force)
    return render_template("records/holds.html", holds=found, in_force=in_force)
