"""The search page's filter choices and the CSV export of a result list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from casework.library import library
from casework.models import User
from casework.presenting import spreadsheet
from casework.presenting.words import local_time
from casework.services import choices, exports, listing
from casework.web.display import CaseRow, case_rows

#: Rows one export may hold; the page says so when a list is longer.
EXPORT_MAX = 5000
#: Filters the search form sends, in the order shareable links carry them.
FILTER_NAMES = (
    "q",
    "workflow",
    "state",
    "assignee",
    "branch",
    "overdue",
    "on_hold",
    "eligible",
    "open",
    "opened_from",
    "opened_to",
    "sort",
    "per_page",
)
#: The quick filters above the case list, as a helpdesk's views: label and filters.
QUICK_FILTERS = (
    ("Assigned to me", {"assignee": "me", "open": "1", "sort": "due_at"}),
    ("Unassigned", {"assignee": "none", "open": "1", "sort": "due_at"}),
    ("Overdue", {"overdue": "1", "open": "1", "sort": "due_at"}),
)
SORT_LABELS = {
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "-updated_at": "Recently changed",
    "updated_at": "Least recently changed",
    "due_at": "Due soonest",
}
UI_PER_PAGE = 25


def parse(args: Mapping[str, Any]) -> listing.CaseFilter:
    """The filter a page asks for (`InvalidFields` names bad parameters)."""
    f = listing.parse_filter(args, max_per_page=int(current_app.config["PER_PAGE_MAX"]))
    if not args.get("per_page"):
        f.per_page = UI_PER_PAGE
    return f


def shared_args(args: Mapping[str, Any]) -> dict[str, str]:
    """The filters of this list, to build links to its other pages and its export."""
    out = {}
    for name in FILTER_NAMES:
        value = args.get(name)
        if isinstance(value, str) and value and len(value) <= 500:
            out[name] = value
    return out


#: Filters the search form shows as `<input type="date">`.
DATE_FILTERS = ("opened_from", "opened_to")


def date_inputs(f: listing.CaseFilter) -> dict[str, str]:
    """The date fields' values for a filter that was accepted, written as a date input needs."""
    values: dict[str, str] = {}
    for name in DATE_FILTERS:
        day = getattr(f, name)
        values[name] = day.isoformat() if day else ""
    return values


def refused_date_inputs(
    args: Mapping[str, str], errors: Mapping[str, list[str]]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The date fields' values and the errors to show when some filter was refused.

    A date input's value must be a real date (YYYY-MM-DD) or nothing, so a refused date leaves its
    field empty and its error says what was typed instead.
    """
    values: dict[str, str] = {}
    shown = dict(errors)
    for name in DATE_FILTERS:
        typed = args.get(name, "")
        values[name] = "" if name in errors or not _html_date(typed) else typed
        if name in errors and typed:
            shown[name] = [*errors[name], f"You typed \u201c{typed}\u201d."]
    return values, shown


def _html_date(text: str) -> bool:
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return False
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


@dataclass
class FilterChoices:
    workflows: list[tuple[str, str]]
    #: (workflow key, title, its states): a state name may be in several workflows.
    states: list[tuple[str, str, list[tuple[str, str]]]]
    assignees: list[tuple[str, str]]
    branches: list[str]
    sorts: list[tuple[str, str]]


def filter_choices(user: User) -> FilterChoices:
    """What the search form offers: the configured branches, then any other branch of cases the
    user may see (typed before the list was configured); only people of cases the user may see."""
    lib = library()
    workflows = [(w.key, w.title) for w in lib.workflows]
    states = [
        (w.key, w.title, [(s.name, s.label) for s in w.states.values()]) for w in lib.workflows
    ]
    found = choices.branches_among(user)
    branches = [*lib.branches, *(b for b in found if b not in lib.branches)]
    return FilterChoices(
        workflows, states, choices.assignees_among(user), branches, list(SORT_LABELS.items())
    )


EXPORT_COLUMNS = (
    "number",
    "workflow",
    "title",
    "state",
    "assignee",
    "branch",
    "opened",
    "due",
    "overdue",
)


def export_rows(user: User, f: listing.CaseFilter, now: datetime) -> tuple[list[CaseRow], str]:
    """The rows of an export and its CSV text; each confidential case records the export."""
    found = exports.matching_cases(user, f, now, EXPORT_MAX)
    rows = case_rows(user, found, now)
    exports.record_export(user, found, "csv")
    text = spreadsheet.csv_text(
        [
            EXPORT_COLUMNS,
            *(
                (
                    row.number,
                    row.workflow,
                    row.title,
                    row.state_label,
                    row.assignee,
                    row.branch,
                    local_time(row.opened),
                    local_time(row.due),
                    "yes" if row.overdue else "no",
                )
                for row in rows
            ),
        ]
    )
    return rows, text
