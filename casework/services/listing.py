"""Finding cases: filters, free-text search, sorting and pages, within what a user may see."""

from __future__ import annotations

import calendar
import collections
import functools
import json
import operator
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from casework.errors import InvalidFields
from casework.extensions import db
from casework.library import library
from casework.models import Case, CaseDisposal, CaseTally, Person, User, utcnow
from casework.services.access import Reach, visible_clause, visible_reach
from casework.services.db import is_sqlite
from casework.services.holds import on_hold
from casework.services.loading import normalize_number
from casework.services.sealing import seal, unseal

SORTS = {
    "-created_at": (Case.created_at, True),
    "created_at": (Case.created_at, False),
    "-updated_at": (Case.updated_at, True),
    "updated_at": (Case.updated_at, False),
    "due_at": (Case.due_at, False),
}
MAX_PAGE = 100_000
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class CaseFilter:
    """What a list asks for; every part optional."""

    workflow: str | None = None
    state: str | None = None
    assignee: str | None = None
    branch: str | None = None
    q: str | None = None
    overdue: bool | None = None
    #: Only cases under a legal hold in force; only cases that may be disposed of today.
    on_hold: bool = False
    eligible: bool = False
    #: Open cases only (not closed), as the quick filters of the case list ask.
    open: bool = False
    opened_from: date | None = None
    opened_to: date | None = None
    sort: str = "-created_at"
    page: int = 1
    per_page: int = 50
    #: Keyset cursor from a previous page's `next_cursor`; when given, `page` is ignored.
    cursor: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def _one(args: Any, name: str) -> str | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise ValueError("Too long.")
    if "\x00" in value:
        raise ValueError("Contains a character that is not allowed (NUL).")
    return value


def parse_filter(args: Any, *, max_per_page: int = 200) -> CaseFilter:
    """A `CaseFilter` from query parameters; `InvalidFields` names each bad one."""
    f = CaseFilter()
    errors: dict[str, list[str]] = {}
    for name in ("workflow", "state", "assignee", "branch", "q", "cursor"):
        try:
            setattr(f, name, _one(args, name))
        except ValueError as exc:
            errors[name] = [str(exc)]
    lib = library()
    if f.workflow and f.workflow not in lib.workflows:
        errors["workflow"] = [
            f"Unknown workflow; one of: {', '.join(sorted(lib.workflows.keys()))}."
        ]
    if f.state:
        states = {s for w in lib.workflows for s in w.states}
        if f.workflow and f.workflow in lib.workflows:
            states = set(lib.workflow(f.workflow).states)
        if f.state not in states:
            errors["state"] = ["Unknown state."]
    overdue = args.get("overdue")
    if overdue not in (None, ""):
        if overdue in ("1", "true", "yes"):
            f.overdue = True
        elif overdue in ("0", "false", "no"):
            f.overdue = False
        else:
            errors["overdue"] = ["Use 1 or 0."]
    for name in ("on_hold", "eligible"):
        value = args.get(name)
        if value not in (None, ""):
            if value in ("1", "true", "yes"):
                setattr(f, name, True)
            elif value not in ("0", "false", "no"):
                errors[name] = ["Use 1 or 0."]
    opened = args.get("open")
    if opened not in (None, ""):
        if opened in ("1", "true", "yes"):
            f.open = True
        elif opened not in ("0", "false", "no"):
            errors["open"] = ["Use 1 or 0."]
    for name in ("opened_from", "opened_to"):
        value = args.get(name)
        if value not in (None, ""):
            try:
                day = date.fromisoformat(str(value))
            except ValueError:
                errors[name] = ["Use a date such as 2026-03-01."]
                continue
            if not 1900 <= day.year <= 2200:
                errors[name] = ["The year is out of range (1900 to 2200)."]
            else:
                setattr(f, name, day)
    sort = args.get("sort")
    if sort not in (None, ""):
        if sort not in SORTS:
            errors["sort"] = [f"One of: {', '.join(SORTS)}."]
        else:
            f.sort = sort
    for name, low, high in (("page", 1, MAX_PAGE), ("per_page", 1, max_per_page)):
        value = args.get(name)
        if value in (None, ""):
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            errors[name] = ["Must be a whole number."]
            continue
        if not low <= number <= high:
            errors[name] = [f"Must be between {low} and {high}."]
        else:
            setattr(f, name, number)
    if errors:
        raise InvalidFields(errors)
    if f.cursor is not None and _decode_cursor(f.cursor) is None:
        raise InvalidCursor()
    return f


class InvalidCursor(InvalidFields):
    """A cursor this list did not give (made up, altered, or another user's or sort's)."""

    status = 400
    code = "bad_request"

    def __init__(self) -> None:
        super().__init__(
            {"cursor": ["Not a cursor this list gave; start again from the first page."]},
            "The cursor is not one this list gave; start again from the first page.",
        )


#: What the list's cursors are sealed for (their keys are theirs alone).
CURSOR_PURPOSE = "casework list cursor"


def _encode_cursor(user: User, sort: str, value: datetime | None, case_id: int) -> str:
    """Where the next page starts, sealed: it names the user and the sort it is good for, and
    holds a case's sort value and id, which a client must not read (an `updated_at` would
    tell when a case it sees only as a receipt last changed)."""
    raw = json.dumps([user.id, sort, value.isoformat() if value else None, case_id])
    return seal(raw.encode(), CURSOR_PURPOSE)


def _decode_cursor(cursor: str) -> tuple[int, str, datetime | None, int] | None:
    opened = unseal(cursor, CURSOR_PURPOSE)
    if opened is None:
        return None
    try:
        user_id, sort, value, case_id = json.loads(opened)
        moment = datetime.fromisoformat(value) if value is not None else None
    except (ValueError, TypeError):
        return None
    if moment is not None and moment.tzinfo is None:
        return None
    if not isinstance(case_id, int) or not isinstance(user_id, int) or sort not in SORTS:
        return None
    return user_id, sort, moment, case_id


#: A case number as people say it: "cmp 42", "CMP-42", "cmp 2026 42", "2026-42".
_SHORT_NUMBER = re.compile(r"^\s*(?:([A-Za-z]{2,6})[\s-]*)?(?:(\d{4})[\s-]+)?(\d{1,9})\s*$")
#: Years a number without one may be of: this one and the few before it.
SHORT_NUMBER_YEARS = 5


def short_numbers(text: str) -> list[str]:
    """The case numbers a short form may mean ("cmp 42" is CMP-2026-0042 this year, or an
    earlier year's); empty when the text is not one (a bare number is a search for a word)."""
    found = _SHORT_NUMBER.match(text)
    if found is None or not (found.group(1) or found.group(2)):
        return []
    given, year, serial = found.group(1), found.group(2), int(found.group(3))
    prefixes = [w.prefix for w in library().workflows]
    if given is not None:
        prefixes = [p for p in prefixes if p == given.upper()]
    this_year = utcnow().astimezone(library().tz).year
    years = [int(year)] if year else range(this_year, this_year - SHORT_NUMBER_YEARS, -1)
    return [f"{p}-{y:04d}-{serial:04d}" for p in prefixes for y in years]


def search_condition(text: str) -> ColumnElement[bool] | None:
    """Full-text search: SQLite FTS5 or PostgreSQL tsvector; every word must match (as a prefix)."""
    number = normalize_number(text)
    if number is not None:
        return Case.number == number
    numbers = short_numbers(text)
    if numbers:
        return Case.number.in_(numbers)
    words = _WORD.findall(text)[:12]
    if not words:
        return None
    if is_sqlite():
        expression = " ".join(f'"{w}"*' for w in words)
        matches: sa.Select[Any] = (
            sa.select(sa.column("rowid"))
            .select_from(sa.table("cases_fts"))
            .where(sa.text("cases_fts MATCH :fts").bindparams(fts=expression))
        )
        return Case.id.in_(matches)
    expression = " & ".join(f"{w}:*" for w in words)
    vector: ColumnElement[Any] = sa.literal_column("cases.search_vector")
    matched: ColumnElement[bool] = vector.op("@@")(sa.func.to_tsquery("simple", expression))
    return matched


def filter_conditions(user: User, f: CaseFilter, now: datetime) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a list: visibility first, then each filter."""
    return [visible_clause(user, receipts=_receipts(f)), *_filters(user, f, now)]


#: The sorts a receipt may take part in: by what a receipt shows (number and date received).
RECEIPT_SORTS = frozenset({"-created_at", "created_at"})


def _receipts(f: CaseFilter) -> bool:
    """Whether receipts belong in the list: they show number, date received and open or closed
    only, so a filter on anything else (the state included) or a sort by anything else (when
    last changed, when due) leaves them out: where one stood would tell what it does not show."""
    narrowed = f.assignee or f.branch or f.q or f.state or f.on_hold or f.eligible or f.open
    return not (narrowed or f.overdue is not None) and (f.sort in RECEIPT_SORTS)


def _filters(user: User, f: CaseFilter, now: datetime) -> list[ColumnElement[bool]]:
    """The conditions of the filters alone (visibility apart)."""
    on_cases, _ = _tallied_filters(f)
    return on_cases + _due_filters(f, now) + _other_filters(user, f, now)


def _tallied_filters(f: CaseFilter) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """The filters `CaseTally` counts by (workflow, state, branch, unassigned, open), as
    conditions on cases and as the same conditions on the tallies."""
    on_cases: list[ColumnElement[bool]] = []
    on_tallies: list[ColumnElement[bool]] = []
    if f.workflow:
        on_cases.append(Case.workflow_key == f.workflow)
        on_tallies.append(CaseTally.workflow_key == f.workflow)
    if f.state:
        on_cases.append(Case.state == f.state)
        on_tallies.append(CaseTally.state == f.state)
    if f.branch:
        on_cases.append(Case.branch == f.branch)
        on_tallies.append(CaseTally.branch == f.branch)
    if f.assignee == "none":
        on_cases.append(Case.assignee_id.is_(None))
        on_tallies.append(CaseTally.unassigned.is_(True))
    if f.open:
        on_cases.append(Case.closed_at.is_(None))
        on_tallies.append(CaseTally.open.is_(True))
    return on_cases, on_tallies


def _due_filters(f: CaseFilter, now: datetime) -> list[ColumnElement[bool]]:
    """The condition of the overdue filter, if given."""
    if f.overdue is True:
        return [Case.due_at < now]
    if f.overdue is False:
        return [sa.or_(Case.due_at.is_(None), Case.due_at >= now)]
    return []


def _other_filters(user: User, f: CaseFilter, now: datetime) -> list[ColumnElement[bool]]:
    """The conditions of every filter but those `CaseTally` counts by and the overdue one."""
    tz = library().tz
    conditions: list[ColumnElement[bool]] = []
    if f.assignee and f.assignee != "none":
        # The id itself, not a subquery: with it the planner reads the assignee's own index
        # in list order instead of the whole list, looking for their cases.
        assignee_id = (
            user.id
            if f.assignee == "me"
            else db.session.execute(
                sa.select(User.id).where(User.username == f.assignee.lower())
            ).scalar_one_or_none()
        )
        conditions.append(
            Case.assignee_id == assignee_id if assignee_id is not None else sa.false()
        )
    if f.opened_from:
        conditions.append(
            Case.created_at >= datetime.combine(f.opened_from, time(), tz).astimezone(UTC)
        )
    if f.opened_to:
        end = datetime.combine(f.opened_to + timedelta(days=1), time(), tz).astimezone(UTC)
        conditions.append(Case.created_at < end)
    if f.q:
        found = search_condition(f.q)
        if found is not None:
            conditions.append(found)
    if f.on_hold:
        conditions.append(on_hold())
    if f.eligible:
        conditions.append(eligible_now(now.astimezone(tz).date()))
    return conditions


def eligible_now(today: date) -> ColumnElement[bool]:
    """SQL condition on `Case`: its retention period has ended by `today`, no legal hold is in
    force, and it is not disposed of (`services.retention.eligibility`, for a whole list)."""
    lib = library()
    tz = lib.tz
    parts: list[ColumnElement[bool]] = []
    for workflow in lib.workflows:
        if workflow.retention is None:
            continue
        for state in workflow.terminal_states:
            rule = workflow.retention.for_state(state)
            if rule.permanent:
                continue
            latest = sub_years(today, rule.years)
            here = sa.and_(Case.workflow_key == workflow.key, Case.state == state)
            if rule.after == "separation":
                separated = sa.select(Person.id).where(Person.separated_on <= latest)
                parts.append(
                    sa.and_(
                        here,
                        Case.closed_at.is_not(None),
                        Case.subject_person_id.in_(separated),
                    )
                )
            else:
                end = datetime.combine(latest + timedelta(days=1), time(), tz).astimezone(UTC)
                parts.append(sa.and_(here, Case.closed_at < end))
    if not parts:
        return sa.false()
    gone = sa.exists().where(CaseDisposal.case_id == Case.id)
    return sa.and_(sa.or_(*parts), ~on_hold(), ~gone)


def sub_years(day: date, years: int) -> date:
    """The last start day whose period of `years` has ended by `day` (see `add_years`)."""
    try:
        earlier = day.replace(year=day.year - years)
    except ValueError:  # 29 February, in a common year
        return day.replace(year=day.year - years, day=28)
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        try:
            return earlier.replace(day=29)  # 29 February + years is 28 February
        except ValueError:
            return earlier
    return earlier


@dataclass
class CasePage:
    items: list[Case]
    total: int
    page: int
    per_page: int
    next_cursor: str | None


#: Lists show each case's assignee: loaded with the cases, not one query per case; their roles
#: are not needed, so they are left to load if anything asks.
WITH_ASSIGNEE = joinedload(Case.assignee).lazyload(User.role_rows)


def list_cases(user: User, f: CaseFilter, *, now: datetime | None = None) -> CasePage:
    """One page of the cases `user` may see that match `f`, and how many match in all.

    Pages after the first are reached by keyset (`cursor`) or, for page numbers, by finding the
    page's ids over the index alone before loading the rows.
    """
    now = now or utcnow()
    seen = visible_reach(user, receipts=_receipts(f))
    parts = seen.parts()
    visible = sa.or_(*parts) if parts else sa.false()
    on_cases, on_tallies = _tallied_filters(f)
    due = _due_filters(f, now)
    narrowed = _other_filters(user, f, now)
    filters = on_cases + due + narrowed
    conditions = [visible, *filters]
    column, descending = SORTS[f.sort]
    if not parts:
        total = 0
    elif narrowed or f.overdue is False:
        # Narrowed by a filter with an index of its own (an assignee, dates, words): one pass
        # over that range, where a count a part of what the user may see would read it again
        # for each part.
        total = _sum([_counted(visible, *filters)])
    elif f.overdue is True:
        total = _count_overdue(seen, visible, on_cases, on_tallies, now)
    else:
        total = _sum(_count_tallied(seen, on_cases, on_tallies))
    # Cases without a due date go last in a list by due date; an overdue list has none, and
    # its plain order is the due-date index's own, read only as far as the page.
    nulls_last = f.sort == "due_at" and f.overdue is not True
    forward, backward = _orders(column, descending, nulls_last=nulls_last)
    ids = sa.select(Case.id).where(*conditions)
    offset = (f.page - 1) * f.per_page
    if f.cursor:
        decoded = _decode_cursor(f.cursor)
        if decoded is None or decoded[0] != user.id or decoded[1] != f.sort:
            raise InvalidCursor()
        _, _, value, last_id = decoded
        after = _after(column, descending, value, last_id, nulls_last)
        page_ids = list(
            db.session.execute(ids.where(after).order_by(*forward).limit(f.per_page + 1)).scalars()
        )
        more = len(page_ids) > f.per_page
        page_ids = page_ids[: f.per_page]
    elif offset >= total:
        page_ids, more = [], False  # past the end: nothing to look for
    elif total // 2 < offset:
        # A page in the second half is counted from the far end, so that the last pages are as
        # quick to reach as the first.
        start = max(0, total - offset - f.per_page)
        backwards = ids.order_by(*backward).offset(start).limit(total - offset - start)
        page_ids = list(reversed(db.session.execute(backwards).scalars().all()))
        more = offset + len(page_ids) < total
    else:
        forwards = ids.order_by(*forward).offset(offset).limit(f.per_page + 1)
        page_ids = list(db.session.execute(forwards).scalars())
        more = len(page_ids) > f.per_page
        page_ids = page_ids[: f.per_page]
    page = sa.select(Case).where(Case.id.in_(page_ids)).options(WITH_ASSIGNEE)
    rows = {c.id: c for c in db.session.execute(page).scalars()} if page_ids else {}
    items = [rows[i] for i in page_ids]
    next_cursor = None
    if more and items:
        last = items[-1]
        next_cursor = _encode_cursor(user, f.sort, getattr(last, column.key), last.id)
    return CasePage(items, total, f.page, f.per_page, next_cursor)


def _tallied(
    seen: Reach,
    filters: list[ColumnElement[bool]],
    on_tallies: list[ColumnElement[bool]],
    *,
    by_state: bool = False,
) -> list[tuple[int, sa.Select[Any]]]:
    """What a count of the cases of `seen` that match `filters` adds up, as (sign, statement):
    each statement one count or, `by_state`, one per workflow and state. The workflows seen
    whole come from `CaseTally`'s few rows (`on_tallies` are `filters` on it, which it must
    count by) instead of an index entry a case; less the cases about the user where they see
    a workflow but those; plus each narrower part, from an index range of its own."""
    tally_key = (CaseTally.workflow_key, CaseTally.state) if by_state else ()
    case_key = (Case.workflow_key, Case.state) if by_state else ()

    def counted(*where: ColumnElement[bool]) -> sa.Select[Any]:
        found = sa.select(*case_key, sa.func.count()).select_from(Case)
        return found.where(*where, *filters).group_by(*case_key)

    terms: list[tuple[int, sa.Select[Any]]] = []
    if seen.whole or seen.but_own:
        tallied = sa.cast(sa.func.coalesce(sa.func.sum(CaseTally.cases), 0), sa.BigInteger)
        within = CaseTally.workflow_key.in_(seen.whole + seen.but_own)
        terms.append(
            (1, sa.select(*tally_key, tallied).where(within, *on_tallies).group_by(*tally_key))
        )
    if seen.but_own:
        about = Case.subject_person_id == seen.person_id
        terms.append((-1, counted(Case.workflow_key.in_(seen.but_own), about)))
    return terms + [(1, counted(part)) for part in seen.narrower]


def _count_tallied(
    seen: Reach, filters: list[ColumnElement[bool]], on_tallies: list[ColumnElement[bool]]
) -> list[Any]:
    """`_tallied`'s counts as scalar subqueries, those to take away negated, for `_sum`."""
    return [
        term.scalar_subquery() if sign > 0 else -term.scalar_subquery()
        for sign, term in _tallied(seen, filters, on_tallies)
    ]


#: An overdue list counts each side of now one by one up to this many, and reads only the side
#: that holds fewer due dates in full: a backlog of old deadlines is large where the cases still
#: within theirs are few, and the other way round on a day of few overdue cases.
OVERDUE_PROBE = 2_000


def _count_overdue(
    seen: Reach,
    visible: ColumnElement[bool],
    filters: list[ColumnElement[bool]],
    on_tallies: list[ColumnElement[bool]],
    now: datetime,
) -> int:
    """How many cases of `seen` (`visible`: its parts as one condition) match `filters` and are
    overdue at `now`: those counted one by one when they are fewer than `OVERDUE_PROBE`; else
    the tallied cases with a due date less those not yet due, when these are fewer; else all
    the overdue ones, one by one."""
    overdue = [visible, *filters, Case.due_at < now]
    found = db.session.execute(sa.select(_up_to(OVERDUE_PROBE, *overdue))).scalar_one()
    if found < OVERDUE_PROBE:
        return int(found)
    with_due = _count_tallied(
        seen, [*filters, Case.due_at.is_not(None)], [*on_tallies, CaseTally.due.is_(True)]
    )
    not_yet = _up_to(OVERDUE_PROBE, visible, *filters, Case.due_at >= now)
    # Both in one statement, so that they are counted in one snapshot of the database.
    everything, later = db.session.execute(
        sa.select(functools.reduce(operator.add, with_due), not_yet)
    ).one()
    if later < OVERDUE_PROBE:
        return int(everything) - int(later)
    return _sum([_counted(*overdue)])


def _up_to(bound: int, *where: ColumnElement[bool]) -> Any:
    """How many cases meet every condition, counted no further than `bound`, as a scalar
    subquery (the due date alone is read: the index on it answers)."""
    found = sa.select(Case.due_at).where(*where).limit(bound).subquery()
    return sa.select(sa.func.count()).select_from(found).scalar_subquery()


def _counted(*where: ColumnElement[bool]) -> Any:
    """The number of cases that meet every condition, as a scalar subquery."""
    return sa.select(sa.func.count()).select_from(Case).where(*where).scalar_subquery()


def _sum(counts: list[Any]) -> int:
    """The sum of scalar subqueries, in one statement (one snapshot of the database)."""
    if not counts:
        return 0
    return int(db.session.execute(sa.select(functools.reduce(operator.add, counts))).scalar_one())


def _orders(
    column: Any, descending: bool, *, nulls_last: bool
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The list's ORDER BY, and the same order backwards; ties go by id."""
    if nulls_last:
        return (
            (column.is_(None), column.asc(), Case.id.asc()),
            (column.is_(None).desc(), column.desc(), Case.id.desc()),
        )
    down, up = (column.desc(), Case.id.desc()), (column.asc(), Case.id.asc())
    return (down, up) if descending else (up, down)


def _after(
    column: Any, descending: bool, value: datetime | None, last_id: int, nulls_last: bool
) -> ColumnElement[bool]:
    if nulls_last:
        if value is None:
            return sa.and_(Case.due_at.is_(None), Case.id > last_id)
        return sa.or_(
            Case.due_at > value,
            sa.and_(Case.due_at == value, Case.id > last_id),
            Case.due_at.is_(None),
        )
    # A row-value comparison, which both databases answer as one range of the sort's index.
    after = sa.tuple_(sa.literal(value, column.type), sa.literal(last_id, Case.id.type))
    key = sa.tuple_(column, Case.id)
    return key < after if descending else key > after


def count_by_state(user: User) -> dict[tuple[str, str], int]:
    """Counts of visible cases per (workflow, state), added up as lists add up their `total`
    (`_tallied`)."""
    found: collections.Counter[tuple[str, str]] = collections.Counter()
    for sign, term in _tallied(visible_reach(user), [], [], by_state=True):
        for workflow, state, n in db.session.execute(term):
            found[(workflow, state)] += sign * int(n)
    return {key: n for key, n in found.items() if n}
