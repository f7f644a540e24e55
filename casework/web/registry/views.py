"""The account registry page: active accounts, their administrators and denied lists."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Response, render_template

from casework.api.printing import pdf_response
from casework.extensions import db
from casework.models import Case, DeniedAuthor, utcnow
from casework.printing import documents
from casework.services import listing
from casework.services.context import library
from casework.web.actor import actor
from casework.web.display import case_rows, user_names
from casework.web.registry import bp


@dataclass
class Account:
    case: Case
    platform: str
    handle: str
    branch: str
    administrators: list[str]
    denied: list[DeniedAuthor]


@bp.get("/registry")
def registry() -> str:
    user = actor()
    now = utcnow()
    active = listing.list_cases(
        user,
        listing.parse_filter(
            {"workflow": "account", "state": "active", "sort": "created_at", "per_page": "200"}
        ),
        now=now,
    )
    ids = [c.id for c in active.items]
    denied: dict[int, list[DeniedAuthor]] = {}
    if ids:
        for row in db.session.execute(
            sa.select(DeniedAuthor)
            .where(DeniedAuthor.account_case_id.in_(ids))
            .order_by(DeniedAuthor.created_at)
        ).scalars():
            denied.setdefault(row.account_case_id, []).append(row)
    workflow = library().workflow("account")
    platform = workflow.field("platform")
    names = user_names(n for c in active.items for n in c.fields.get("administrators") or [])
    accounts = [
        Account(
            case=c,
            platform=platform.choice_label(str(c.fields.get("platform"))) if platform else "",
            handle=str(c.fields.get("handle", "")),
            branch=str(c.fields.get("branch", "")),
            administrators=[
                f"{names.get(n, n)} ({n})" for n in c.fields.get("administrators") or []
            ],
            denied=denied.get(c.id, []),
        )
        for c in active.items
    ]
    pending = listing.list_cases(
        user,
        listing.parse_filter(
            {"workflow": "account", "state": "requested", "sort": "created_at", "per_page": "50"}
        ),
        now=now,
    )
    return render_template(
        "registry/registry.html",
        accounts=accounts,
        pending=case_rows(user, pending.items, now),
    )


@bp.post("/registry.pdf")
def print_registry() -> Response:
    """The print button: the account registry as a download."""
    return pdf_response(documents.account_registry_pdf(actor()), download=True)
