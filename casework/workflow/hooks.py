"""The named guards, conditions and steps workflow files may use: an explicit registry.

A workflow file names these functions; the loader refuses any name not registered here, and the
engine hands `transitions` the functions themselves, never a dotted string to import.

Guards return the reason they refuse, or None. Conditions return whether the transition may
complete now; when one is false the request is recorded and the case stays where it is. Steps
change things through the firing context, inside the transition's database transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
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


# --- moderation -------------------------------------------------------------------------------


@guard("not_a_complaint")
def not_a_complaint(firing: Firing) -> str | None:
    """Complaints and negative comments are engaged, never deleted (policy, third-party posts)."""
    if firing.case_fields.get("is_complaint") == "yes":
        return (
            "This post is a complaint or negative comment. The policy says complaints are not "
            "deleted but engaged like any other patron complaint: refer it instead, which opens "
            "a complaint case. If it is not a complaint, correct that answer first."
        )
    return None


@guard("complaints_are_referred")
def complaints_are_referred(firing: Firing) -> str | None:
    """A complaint is not kept without an answer: it is referred, which opens a complaint."""
    if firing.case_fields.get("is_complaint") == "yes":
        return (
            "This post is a complaint or negative comment, so it is not simply kept: refer it, "
            "which opens a complaint case to answer it. If it is not a complaint, correct the "
            "answer first."
        )
    return None


@guard("has_account")
def has_account(firing: Firing) -> str | None:
    if not firing.case_fields.get("account"):
        return (
            "This post is not linked to a registered account, so there is no denied list to add to."
        )
    if not firing.case_fields.get("author"):
        return "The post's author is not recorded, so there is nobody to deny access to."
    return None


@guard("not_denied_already")
def not_denied_already(firing: Firing) -> str | None:
    """A denial is never repeated silently: one in force is named, with its dates."""
    account, author = firing.case_fields.get("account"), firing.case_fields.get("author")
    if not account or not author:
        return None  # `has_account` says why
    return firing.already_denied(account, author)


@guard("author_denied")
def author_denied(firing: Firing) -> str | None:
    """Access can be restored only where a denial is in force."""
    account, author = firing.case_fields.get("account"), firing.case_fields.get("author")
    if not account or not author or firing.denial_in_force(account, author) is None:
        return "The author is not denied access to this account now; there is nothing to restore."
    return None


@step("open_referred_complaint")
def open_referred_complaint(firing: Firing) -> None:
    """Refer a post: open a complaint (state received) carrying the post, linked to this case."""
    case = firing.case_fields
    account = case.get("account")
    platform = firing.case_field_of(account, "platform") if account else None
    content = str(case.get("content") or "")
    fields: dict[str, Any] = {
        # Not the post's text: the summary is shown wherever the complaint is listed and printed
        # in its public-records copy, while the text may identify its author (R.C. 149.432).
        "summary": "Social media post referred for a response",
        "channel": platform if platform in SOCIAL_CHANNELS else "other_social",
        "post_url": case.get("post_url"),
        "content": content or None,
        "account": account,
        "patron": case.get("author"),
    }
    number = firing.open_linked_case("complaint", {k: v for k, v in fields.items() if v})
    firing.event_data["opened"] = number


#: How long each choice of the `duration` field denies access (None: permanent).
DENIAL_DAYS: dict[str, int | None] = {
    "30_days": 30,
    "90_days": 90,
    "180_days": 180,
    "1_year": 365,
    "permanent": None,
}


@step("add_to_denied_list")
def add_to_denied_list(firing: Firing) -> None:
    """Deny the post's author access to the account, for the chosen time, with a review date."""
    account = firing.case_fields["account"]
    author = firing.case_fields["author"]
    days = DENIAL_DAYS.get(str(firing.fields.get("duration") or "permanent"))
    until = firing.now + timedelta(days=days) if days else None
    review = firing.fields.get("review_on")
    review_on = date.fromisoformat(review) if isinstance(review, str) else None
    firing.deny_access(account, author, str(firing.fields.get("reason", "")), until, review_on)
    firing.event_data["denied"] = {"account": account, "author": author}


@step("lift_denial")
def lift_denial(firing: Firing) -> None:
    """Restore the author's access to the account (moderation's restore, an appeal's restore)."""
    account = str(firing.case_fields.get("account") or "")
    author = str(firing.case_fields.get("author") or "")
    reason = str(firing.fields.get("reason") or firing.trigger)
    lifted = bool(account and author) and firing.lift_denial(account, author, reason)
    firing.event_data["restored"] = {"account": account, "lifted": lifted}


#: Complaint channels that are social media platforms (an account's platform maps onto these).
SOCIAL_CHANNELS = frozenset(
    {"facebook", "x", "instagram", "youtube", "tiktok", "linkedin", "other_social"}
)


# --- account ----------------------------------------------------------------------------------

#: Both of these must approve a new account, as two different people (policy, establishment).
APPROVER_ROLES = ("director", "social_media_team")


def _open_approver_roles(firing: Firing) -> list[str]:
    covered = {a["role"] for a in firing.approvals()}
    return [r for r in APPROVER_ROLES if r in firing.roles and r not in covered]


@guard("distinct_approver")
def distinct_approver(firing: Firing) -> str | None:
    """Each approval comes from a different person, in a role that has not yet approved.

    Two accounts of one person (the same e-mail address or full name) are one approver.
    """
    previous = firing.approvals()
    if any(a["user"] == firing.actor for a in previous):
        return "You have already approved this request; a second person must approve it."
    for earlier in previous:
        if firing.same_person(earlier["user"], firing.actor):
            return (
                f"This request was already approved by {earlier['user']}, an account of the "
                "same person as yours (the same e-mail address or name); a second person must "
                "approve it."
            )
    if not _open_approver_roles(firing):
        done = ", ".join(f"{a['user']} ({a['role'].replace('_', ' ')})" for a in previous)
        return f"This request already has the approval your role can give ({done})."
    return None


@step("record_approval")
def record_approval(firing: Firing) -> None:
    open_roles = _open_approver_roles(firing)
    if open_roles:
        firing.event_data["approved_as"] = open_roles[0]


@condition("both_approvals")
def both_approvals(firing: Firing) -> bool:
    """True once a director and a social media team member, two people, have approved."""
    approvals = firing.approvals()
    new_role = firing.event_data.get("approved_as")
    if new_role:
        approvals = approvals + [{"user": firing.actor, "role": new_role}]
    roles = {a["role"] for a in approvals}
    people = {a["user"] for a in approvals}
    complete = all(r in roles for r in APPROVER_ROLES) and len(people) >= 2
    if not complete:
        waiting = [r for r in APPROVER_ROLES if r not in roles]
        firing.event_data["waiting_for"] = waiting
    return complete


#: Roles that give continuity of access when one of an account's administrators holds them.
CONTINUITY_ROLES = frozenset({"social_media_team", "admin"})


@guard("continuity_admin")
def continuity_admin(firing: Firing) -> str | None:
    """At least one administrator is on the social media team or in IT (policy, continuity)."""
    names = list(firing.case_fields.get("administrators") or [])
    roles = firing.roles_of(names)
    if any(held & CONTINUITY_ROLES for held in roles.values()):
        return None
    return (
        "No administrator of this account is on the social media team or in IT. Add one "
        "(the administrators field) so the library keeps access to the account."
    )


@watch("administrators_in_place")
def administrators_in_place(case: Watched) -> str | None:
    """Someone on staff can still reach the account, and one of them is on the social media team
    or in IT (policy: continuity of access)."""
    names = [str(n) for n in case.fields.get("administrators") or ()]
    standing = case.standing(names)
    gone = [n for n in names if n not in standing or not standing[n].active]
    left = [n for n in names if n in standing and standing[n].separated]
    present = [n for n in names if n not in gone and n not in left]
    problems = []
    if gone:
        problems.append(f"disabled or unknown: {', '.join(gone)}")
    if left:
        problems.append(f"left the library: {', '.join(left)}")
    if not any(standing[n].roles & CONTINUITY_ROLES for n in present):
        problems.append("no administrator on the social media team or in IT")
    return "; ".join(problems) or None


def known_names() -> dict[str, frozenset[str]]:
    """Registered names by kind, for the loader's checks."""
    return {
        "guards": frozenset(GUARDS),
        "conditions": frozenset(CONDITIONS),
        "prepare": frozenset(STEPS),
        "effects": frozenset(STEPS),
        "watches": frozenset(WATCHES),
    }
