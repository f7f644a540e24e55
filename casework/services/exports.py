"""Exports of case lists: every case of a list, and the record each confidential case keeps of
being exported."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from casework.models import Case, User
from casework.services import activity, listing, loading


def matching_cases(user: User, f: listing.CaseFilter, now: datetime, most: int) -> list[Case]:
    """Every case of a list, page after page by keyset, up to `most`."""
    f = replace(f, per_page=200, cursor=None, page=1)
    found: list[Case] = []
    while True:
        page = listing.list_cases(user, f, now=now)
        found.extend(page.items[: most - len(found)])
        if len(found) >= most or not page.next_cursor:
            return found
        f = replace(f, cursor=page.next_cursor)


def record_export(user: User, cases: Iterable[Case], what: str) -> None:
    """Record in each confidential case's trail that `user` exported it (as `what`, e.g. csv)."""
    for case in cases:
        if case.confidential:
            locked, workflow, _ = loading.load_case(user, case.number, write=True)
            activity.record_access(user, locked, workflow, "export", {"format": what})
