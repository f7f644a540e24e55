"""The named guards, conditions and steps workflow files may use: an explicit registry.

A workflow file names these functions; the loader refuses any name not registered here, and the
engine hands `transitions` the functions themselves, never a dotted string to import. What they
do is each workflow's policy, one module each in `casework.policies`; this module only says what
a hook may know and do (`Firing`, `Watched`) and keeps the registry.

Guards return the reason they refuse, or None. Conditions return whether the transition may
complete now; when one is false the request is recorded and the case stays where it is. Steps
change things through the firing context, inside the transition's database transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from importlib import import_module
from typing import Any, Protocol


class Firing(Protocol):
    """What a hook may know and do about the transition being fired."""

    trigger: str
    actor: str
    #: The actor's roles on this case (a trustee standing in for a director holds `director`).
    roles: frozenset[str]
    #: The case's intake fields, as they will be after this transition.
    case_fields: Mapping[str, Any]
    #: The fields given with this transition.
    fields: Mapping[str, Any]
    #: Extra facts to record in the transition's audit event.
    event_data: dict[str, Any]
    #: When the transition happens.
    now: datetime

    def approvals(self) -> list[dict[str, str]]:
        """Approvals recorded on this case so far: [{"user", "role"}]."""
        ...

    def roles_of(self, usernames: Iterable[str]) -> dict[str, frozenset[str]]:
        """The roles of the named active users."""
        ...

    def same_person(self, first: str, second: str) -> bool:
        """Whether two user accounts belong to one person (the same e-mail address or name)."""
        ...

    def open_linked_case(self, workflow: str, fields: Mapping[str, Any]) -> str:
        """Open a case linked to this one; return its number."""
        ...

    def case_field_of(self, number: str, name: str) -> Any:
        """An intake field of another case."""
        ...

    def denial_in_force(self, account: str, author: str) -> Any:
        """The denial of `author` on the account that is in force now, if any."""
        ...

    def already_denied(self, account: str, author: str) -> str | None:
        """Why `author` cannot be denied access again (the denial in force, its case and dates),
        or None when no denial is in force."""
        ...

    def deny_access(
        self,
        account: str,
        author: str,
        reason: str,
        until: datetime | None,
        review_on: date | None,
    ) -> None:
        """Add an author to an account's denied list (refused if a denial is in force)."""
        ...

    def lift_denial(self, account: str, author: str, reason: str) -> bool:
        """End the author's denial in force on the account; False when there was none."""
        ...


class Standing(Protocol):
    """What a watch may know of a user named on a case."""

    @property
    def active(self) -> bool: ...

    @property
    def roles(self) -> frozenset[str]: ...

    @property
    def separated(self) -> bool:
        """The user's person record has a separation date that has come."""
        ...


class Watched(Protocol):
    """A case a watch looks at."""

    #: The case's intake fields.
    fields: Mapping[str, Any]

    def standing(self, usernames: Iterable[str]) -> Mapping[str, Standing]:
        """How each named user stands today (users that do not exist are left out)."""
        ...


Guard = Callable[[Firing], str | None]
Condition = Callable[[Firing], bool]
Step = Callable[[Firing], None]

GUARDS: dict[str, Guard] = {}
CONDITIONS: dict[str, Condition] = {}
STEPS: dict[str, Step] = {}
Check = Callable[[Watched], str | None]
WATCHES: dict[str, Check] = {}


def watch(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        WATCHES[name] = fn
        return fn

    return register


def guard(name: str) -> Callable[[Guard], Guard]:
    def register(fn: Guard) -> Guard:
        GUARDS[name] = fn
        return fn

    return register


def condition(name: str) -> Callable[[Condition], Condition]:
    def register(fn: Condition) -> Condition:
        CONDITIONS[name] = fn
        return fn

    return register


def step(name: str) -> Callable[[Step], Step]:
    def register(fn: Step) -> Step:
        STEPS[name] = fn
        return fn

    return register


def known_names() -> dict[str, frozenset[str]]:
    """Registered names by kind, for the loader's checks (the policies registered first)."""
    import_module("casework.policies")
    return {
        "guards": frozenset(GUARDS),
        "conditions": frozenset(CONDITIONS),
        "prepare": frozenset(STEPS),
        "effects": frozenset(STEPS),
        "watches": frozenset(WATCHES),
    }
