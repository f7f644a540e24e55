"""How cases, fields and audit events read on a page: the shared words (`casework.presenting`)
styled for the web, timeline entries, the menu and case rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app, url_for
from werkzeug.routing import BuildError

from casework.library import library
from casework.models import Case, User
from casework.presenting.people import staff_of
from casework.presenting.presenter import Item, Presenter, person_ids
from casework.presenting.words import (
    ACCESS_ACTIONS,
    local_date,
    local_time,
    reads_line,
    role_label,
    role_list,
)
from casework.services.history import events_of
from casework.services.loading import normalize_number
from casework.services.people import employee_labels
from casework.services.unseen import UNSEEN, masker
from casework.workflow import Workflow
from casework.workflow.definition import FieldDef


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


#: Past this many business days a due date reads as a date, not a count.
COUNT_DAYS_UP_TO = 10


def due_words(due: datetime | None, now: datetime) -> str:
    """When a case is due, in the library's business days: "3 business days overdue", "due in 2
    business days", "due today"; far off, "due Mar 3, 2027"."""
    if due is None:
        return ""
    tz = library().tz
    today, day = now.astimezone(tz).date(), due.astimezone(tz).date()
    if due < now:
        late = library().calendar.business_days_between(day, today)
        return f"{_plural(late, 'business day')} overdue" if late else "overdue"
    if day == today:
        return "due today"
    ahead = library().calendar.business_days_between(today, day)
    if ahead > COUNT_DAYS_UP_TO:
        return f"due {local_date(due)}"
    return f"due in {_plural(ahead, 'business day')}" if ahead else f"due {local_date(due)}"


def age_words(opened: datetime | None, now: datetime) -> str:
    """How long ago a case was opened: "today", "yesterday", "4 days ago"."""
    if opened is None:
        return ""
    tz = library().tz
    days = (now.astimezone(tz).date() - opened.astimezone(tz).date()).days
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def iso_time(moment: datetime | None) -> str:
    """A moment for a `<time datetime>` attribute: HTML allows at most three digits of a second."""
    return moment.isoformat(timespec="milliseconds") if moment else ""


def has_endpoint(name: str) -> bool:
    """Whether a page exists (pages owned by optional parts link only when they are there)."""
    try:
        url_for(name)
    except BuildError:
        return False
    return True


@dataclass
class Shown:
    """One labelled value as a page shows it."""

    label: str
    text: str
    href: str | None = None
    multiline: bool = False


def show_value(f: FieldDef, value: Any, people: Mapping[int, str]) -> Shown:
    """A field's stored value as the presenter words it, with a link where it names a case or a
    web address."""
    return shown(Presenter(library().tz, people, redacted=False).item(f, f.name, value))


def show_fields(defs: Sequence[FieldDef], values: Mapping[str, Any]) -> list[Shown]:
    """The given fields, in their definition's order, ready to show."""
    people = employee_labels(
        v for f in defs if f.type == "person" for v in [values.get(f.name)] if v is not None
    )
    return [show_value(f, values[f.name], people) for f in defs if f.name in values]


# --- the timeline -----------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    seq: int
    at: datetime
    actor: str
    what: str
    from_state: str | None
    to_state: str | None
    details: list[Shown] = field(default_factory=list)
    access_record: bool = False


def _state(workflow: Workflow, name: str | None) -> str | None:
    if name is None:
        return None
    state = workflow.states.get(name)
    return state.label if state else name


def shown(item: Item) -> Shown:
    """A presenter's item as a page shows it: case numbers and web addresses become links."""
    href = None
    if item.case and item.case != UNSEEN and normalize_number(item.case) is not None:
        href = url_for("cases.case_page", number=item.case)
    elif item.url.startswith(("http://", "https://")):
        href = item.url
    return Shown(item.label, item.value, href, multiline=item.multiline)


def timeline(case: Case, workflow: Workflow, viewer: User | None) -> list[TimelineEntry]:
    """Every event of the case, oldest first, in the presenter's words, as `viewer` may see it
    (numbers of cases they may not see are not shown)."""
    events = events_of(case)
    mask = masker(viewer, [e.data for e in events])
    data = {e.seq: mask(e.data) for e in events}
    show = Presenter(
        library().tz,
        employee_labels(person_ids(workflow, data.values())),
        redacted=False,
        staff=staff_of(case, events),
    )
    entries = []
    for event in events:
        what, details = show.event(workflow, event, data[event.seq])
        entries.append(
            TimelineEntry(
                seq=event.seq,
                at=event.at,
                actor=show.actor(workflow, event, data[event.seq]),
                what=what,
                from_state=_state(workflow, event.from_state),
                to_state=_state(workflow, event.to_state),
                details=[shown(d) for d in details],
                access_record=event.action in ACCESS_ACTIONS,
            )
        )
    return entries


@dataclass
class AccessRun:
    """Access records in a row (views, prints, exports), shown folded: "Viewed 5 times by …"."""

    entries: list[TimelineEntry]

    @property
    def summary(self) -> str:
        return reads_line((entry.what, entry.actor) for entry in self.entries)


def folded(entries: Sequence[TimelineEntry]) -> list[TimelineEntry | AccessRun]:
    """The timeline with each run of two or more access records folded into one item."""
    out: list[TimelineEntry | AccessRun] = []
    for entry in entries:
        last = out[-1] if out else None
        if entry.access_record and isinstance(last, AccessRun):
            last.entries.append(entry)
        elif entry.access_record and isinstance(last, TimelineEntry) and last.access_record:
            out[-1] = AccessRun([last, entry])
        else:
            out.append(entry)
    return out


def init(app: Flask) -> None:
    """Template filters and globals every page uses."""
    app.add_template_filter(local_time, "when")
    app.add_template_global(local_time, "when")
    app.add_template_filter(local_date, "day")
    app.add_template_filter(iso_time, "iso")
    app.add_template_filter(lambda text: text[:1].upper() + text[1:], "capitalize_first")
    app.add_template_global(has_endpoint)
    app.add_template_global(role_label)
    app.add_template_global(role_list)

    @app.context_processor
    def page_context() -> dict[str, Any]:
        return {
            "library_name": current_app.config.get("LIBRARY_NAME", ""),
            "main_nav": main_nav(),
        }


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    #: The blueprint whose pages mark this item as the current one.
    section: str


def main_nav() -> list[NavItem]:
    """The main menu of the signed-in user: what their roles let them use."""
    from flask import request
    from flask_login import current_user

    from casework.services import acting, board_report
    from casework.services.people import PEOPLE_EDITORS

    if request.endpoint == "static" or not current_user.is_authenticated:
        return []
    roles = current_user.roles
    items = [NavItem("My queue", "home.home", "home")]
    if "staff" in roles:
        items += [
            NavItem("New case", "cases.new_case", "intake"),
            NavItem("Cases", "cases.search", "cases"),
            NavItem("Dashboard", "dashboard.dashboard", "dashboard"),
            NavItem("Account registry", "registry.registry", "registry"),
        ]
    items.append(NavItem("Workflows", "workflows.index", "workflows"))
    if roles & PEOPLE_EDITORS:
        items.append(NavItem("People", "people.index", "people"))
    if roles & {"director", "hr", "trustee", "records_officer"}:
        items.append(NavItem("Legal holds", "records.holds_page", "holds"))
    if roles & {"director", "records_officer"} and has_endpoint("records.retention"):
        items.append(NavItem("Retention", "records.retention", "retention"))
    if board_report.sections_for(current_user):
        items.append(NavItem("Board report", "board.report_page", "board"))
    if acting.may_name(current_user):
        items.append(NavItem("Acting Director", "board.acting_director", "acting"))
    if roles & {"director", "hr", "trustee", "admin"}:
        items.append(NavItem("Administration trail", "administration.trail", "administration"))
    if "admin" in roles:
        items.append(NavItem("Users", "admin.users", "admin"))
        if has_endpoint("notifications.outbox"):
            items.append(NavItem("Outbox", "notifications.outbox", "notifications"))
    return items


# --- case lists -------------------------------------------------------------------------------


@dataclass
class CaseRow:
    """One case as a list shows it; a receipt shows number, date received and open or closed."""

    number: str
    workflow: str
    title: str
    state: str
    state_label: str
    terminal: bool
    overdue: bool
    receipt: bool
    assignee: str = ""
    branch: str = ""
    opened: datetime | None = None
    due: datetime | None = None
    #: "3 business days overdue", "due in 2 business days"; "opened 4 days ago" as "4 days ago".
    due_words: str = ""
    age: str = ""


def case_rows(user: User, cases: Iterable[Case], now: datetime) -> list[CaseRow]:
    """List rows for cases already filtered by what `user` may see (`visible_clause`)."""
    from casework.services.access import Level, case_access, person_id_of
    from casework.services.definitions import workflow_of

    person_id = person_id_of(user)
    rows = []
    for case in cases:
        workflow = workflow_of(case)
        state = workflow.states[case.state]
        access = case_access(user, case, workflow, person_id)
        if access.level is Level.NONE:
            continue  # never shown, whatever the query returned
        receipt = access.level is Level.RECEIPT
        # A receipt says "open" or "closed", never the state: the reporter of a colleague's
        # case must not learn how it was decided.
        closed = "Closed" if state.terminal else "Open"
        rows.append(
            CaseRow(
                number=case.number,
                workflow=workflow.title,
                title="Your report (receipt)" if receipt else case.title,
                state=closed.lower() if receipt else case.state,
                state_label=closed if receipt else state.label,
                terminal=state.terminal,
                overdue=not receipt and case.is_overdue(now),
                receipt=receipt,
                assignee="" if receipt or case.assignee is None else case.assignee.name,
                branch="" if receipt else (case.branch or ""),
                opened=case.created_at,
                due=None if receipt else case.due_at,
                due_words="" if receipt or state.terminal else due_words(case.due_at, now),
                age=age_words(case.created_at, now),
            )
        )
    return rows
