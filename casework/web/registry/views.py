"""The account registry page: active accounts, their administrators and denied lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Response, render_template

from casework.api.printing import pdf_response
from casework.library import library
from casework.models import Case, utcnow
from casework.presenting.words import local_date, role_label
from casework.printing.registry import account_registry_pdf
from casework.services import listing
from casework.services.definitions import workflow_of
from casework.services.denials import Denial, denials
from casework.services.directory import display_names
from casework.services.registry import account_histories
from casework.services.watches import Standings, UserStanding, flags
from casework.web.actor import actor
from casework.web.display import case_rows
from casework.web.registry.blueprint import bp


@dataclass
class Account:
    case: Case
    platform: str
    handle: str
    branch: str
    administrators: list[str]
    denied: list[Denial]
    #: What the account's watches flag now ("Needs new administrators: …").
    flags: list[str]
    last_review: datetime | None
    review_due: datetime | None
    overdue: bool


def administrator_line(
    username: str, name: str, standing: UserStanding | None, since: datetime | None
) -> str:
    """ "Sam Ortiz (sortiz), Social media team, since 2026-03-01" in the library's time."""
    roles = ", ".join(
        role_label(r) for r in sorted((standing.roles if standing else frozenset()) - {"staff"})
    )
    parts = [f"{name} ({username})", roles or "Staff"]
    if standing is None or not standing.active:
        parts.append("account disabled or unknown")
    elif standing.separated:
        parts.append("left the library")
    if since is not None:
        parts.append(f"since {local_date(since)}")
    return ", ".join(parts)


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
    # A denied author is a member of the public: named only to those who may read the post
    # that decided it (`denials`). Each denial is listed with its dates, ended ones too.
    denied: dict[str, list[Denial]] = {}
    for row in denials(user, accounts=ids):
        denied.setdefault(row.account, []).append(row)
    workflow = library().workflow("account")
    platform = workflow.field("platform")
    names = display_names(n for c in active.items for n in c.fields.get("administrators") or [])
    histories = account_histories(ids)
    today = now.astimezone(library().tz).date()
    standings = Standings(today)
    standing = standings.of(n for c in active.items for n in c.fields.get("administrators") or [])
    accounts = [
        Account(
            case=c,
            platform=platform.choice_label(str(c.fields.get("platform"))) if platform else "",
            handle=str(c.fields.get("handle", "")),
            branch=str(c.fields.get("branch", "")),
            administrators=[
                administrator_line(
                    n, names.get(n, n), standing.get(n), histories[c.id].since.get(n)
                )
                for n in c.fields.get("administrators") or []
            ],
            denied=denied.get(c.number, []),
            flags=[f"{f.watch.label}: {f.reason}" for f in flags(c, workflow_of(c), standings)],
            last_review=histories[c.id].last_review,
            review_due=c.due_at,
            overdue=c.is_overdue(now),
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
    return pdf_response(account_registry_pdf(actor()), download=True)
