"""Numbers of cases the viewer may not see, taken out of what they are shown.

A case's events and fields may name other cases: a link, the case a complaint was referred
from, the complaint a referral opened, a case field, a number written in a note. A viewer who may
not see one of those cases in full must not learn its number (a subject would learn that a case
about them exists), so wherever such a number would be shown, `UNSEEN` is shown instead: in the
page's timeline, the API's events and fields, and the printed record. Lists of linked cases
simply leave it out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, User
from casework.services.access import visible_clause

#: What is shown in place of the number of a case the viewer may not see.
UNSEEN = "a linked case you cannot see"

#: What is shown in place of what a record says about a member of the public on behalf of a case
#: the viewer may not see (an account's trail records who a post's moderation denied access).
WITHHELD = "withheld: patron record, Ohio R.C. 149.432"
#: Keys of such a record that are withheld when it names a case the viewer may not see.
PATRON_KEYS = ("author", "reason", "statement")

#: Anything shaped like a case number (PREFIX-YEAR-NNNN), inside any text.
_NUMBER = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2,6}-\d{4}-\d{4,}(?![0-9])")

Mask = Callable[[Any], Any]


def numbers_in(value: Any, found: set[str] | None = None) -> set[str]:
    """Every case number in a stored value (strings, lists and objects, at any depth)."""
    found = set() if found is None else found
    if isinstance(value, str):
        found.update(_NUMBER.findall(value))
    elif isinstance(value, dict):
        for item in value.values():
            numbers_in(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            numbers_in(item, found)
    return found


def unseen_numbers(viewer: User | None, numbers: Iterable[str]) -> frozenset[str]:
    """Those of `numbers` that `viewer` may not see in full (a receipt is not enough: a link
    says more about a case than its receipt does). The command line (`viewer` None or the
    system user) sees every case."""
    wanted = set(numbers)
    if not wanted or viewer is None or "system" in viewer.roles:
        return frozenset()
    seen = set(
        db.session.execute(
            sa.select(Case.number).where(
                Case.number.in_(sorted(wanted)), visible_clause(viewer, receipts=False)
            )
        ).scalars()
    )
    return frozenset(wanted - seen)


def mask_with(hidden: frozenset[str]) -> Mask:
    """A function that replaces each number in `hidden` with `UNSEEN`, at any depth."""

    def mask(value: Any) -> Any:
        if not hidden:
            return value
        if isinstance(value, str):
            if value in hidden:
                return UNSEEN
            return _NUMBER.sub(lambda m: UNSEEN if m.group(0) in hidden else m.group(0), value)
        if isinstance(value, dict):
            # A record made on behalf of a hidden case says no more of the patron it names.
            on_behalf = any(isinstance(v, str) and v in hidden for v in value.values())
            return {
                k: WITHHELD if on_behalf and k in PATRON_KEYS and v else mask(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [mask(v) for v in value]
        return value

    return mask


def masker(viewer: User | None, values: Iterable[Any]) -> Mask:
    """A mask for showing `values` (event data, fields) to `viewer`, built with one query."""
    found: set[str] = set()
    for value in values:
        numbers_in(value, found)
    return mask_with(unseen_numbers(viewer, found))
