"""What the account registry shows, as plain data: the active accounts with their administrators,
continuity of access and denied authors, the requests still waiting, and who administers what."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from casework.models import Case, DeniedAuthor
from casework.policies.account import CONTINUITY_ROLES
from casework.presenting.presenter import Item, Presenter
from casework.presenting.words import role_label
from casework.printing.content import Clock
from casework.services.registry import AccountHistory
from casework.workflow import Workflow


@dataclass(frozen=True)
class Account:
    number: str
    platform: str
    handle: str
    branch: str
    purpose: str
    state: str
    administrators: tuple[str, ...]
    #: Whether an administrator is on the social media team or in IT (continuity of access).
    continuity: bool
    since: str
    denied: tuple[Item, ...] = ()
    approvals: str = ""
    #: What the account's watches flag now; when it was last reviewed and is next due.
    flags: tuple[str, ...] = ()
    review: str = ""


@dataclass(frozen=True)
class Registry:
    active: tuple[Account, ...]
    pending: tuple[Account, ...]
    administrators: tuple[Item, ...]
    denied_total: int


def denial_dates(row: DeniedAuthor, day: Callable[[datetime | None], str]) -> str:
    """When a denial began, until when it holds, and when it is to be reviewed, in words."""
    parts = [f"since {day(row.created_at)}"]
    parts.append(f"until {day(row.until)}" if row.until else "permanent")
    if row.review_on:
        parts.append(f"review on {row.review_on.isoformat()}")
    return ", ".join(parts)


def _histories_by_number(
    accounts: Sequence[tuple[Case, Workflow]], histories: Mapping[int, AccountHistory] | None
) -> list[tuple[str, AccountHistory]]:
    return [
        (case.number, histories[case.id])
        for case, _ in accounts
        if histories and case.id in histories and case.state == "active"
    ]


def build_registry(
    accounts: Sequence[tuple[Case, Workflow]],
    denied: Mapping[int, Sequence[tuple[DeniedAuthor, str]]],
    approvals: Mapping[int, Sequence[tuple[str, str]]],
    users: Mapping[str, tuple[str, frozenset[str]]],
    clock: Clock,
    *,
    histories: Mapping[int, AccountHistory] | None = None,
    flagged: Mapping[int, Sequence[str]] | None = None,
) -> Registry:
    """The account registry: active accounts with their administrators and denied lists, and the
    requests still waiting (approvals so far)."""
    show = Presenter(clock.tz, {}, redacted=False)
    active: list[Account] = []
    pending: list[Account] = []
    admins: dict[str, list[str]] = {}
    for case, workflow in accounts:
        fields = case.fields
        names = tuple(str(n) for n in fields.get("administrators") or ())
        continuity = any(users.get(n, ("", frozenset()))[1] & CONTINUITY_ROLES for n in names)
        given = [f"{user} ({role_label(role)})" for user, role in approvals.get(case.id, ())]
        history = (histories or {}).get(case.id)
        review = ""
        if case.state == "active":
            last = (
                f"last {clock.day(history.last_review)}"
                if history and history.last_review
                else "not reviewed yet"
            )
            due = f"due {clock.day(case.due_at)}" if case.due_at else ""
            review = ", ".join(p for p in (last, due) if p)
        account = Account(
            number=case.number,
            platform=show.text(workflow.field("platform"), fields.get("platform")),
            handle=str(fields.get("handle", "")),
            branch=str(fields.get("branch", "")),
            purpose=str(fields.get("purpose", "")),
            state=workflow.states[case.state].label
            if case.state in workflow.states
            else case.state,
            administrators=names,
            continuity=continuity,
            since=clock.day(case.state_entered_at if case.state == "active" else case.created_at),
            denied=tuple(
                Item(row.author, f"{row.reason} ({denial_dates(row, clock.day)}; {moderation})")
                for row, moderation in denied.get(case.id, ())
            ),
            approvals="; ".join(given) if given else "none yet",
            flags=tuple((flagged or {}).get(case.id, ())),
            review=review,
        )
        if case.state == "active":
            active.append(account)
            for name in names:
                admins.setdefault(name, []).append(case.number)
        else:
            pending.append(account)
    administrators = []
    for name in sorted(admins):
        display, roles = users.get(name, ("", frozenset()))
        shown_roles = ", ".join(role_label(r) for r in sorted(roles - {"staff"})) or "Staff"
        label = f"{name} ({display})" if display and display != name else name
        since_dates = [
            f"{number} since {clock.day(h.since[name])}"
            for number, h in _histories_by_number(accounts, histories)
            if name in h.since
        ]
        administers = ", ".join(since_dates) if since_dates else ", ".join(admins[name])
        administrators.append(Item(label, f"{shown_roles}. Administers {administers}."))
    return Registry(
        active=tuple(active),
        pending=tuple(pending),
        administrators=tuple(administrators),
        denied_total=sum(len(a.denied) for a in active),
    )
