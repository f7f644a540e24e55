"""The moderation workflow's policy: third-party posts on library accounts.

Policy, third-party posts: the library may delete posts that are spam or advertising, hateful or
harassing, obscene, disparaging or defamatory, or that otherwise break its code of conduct, and
may deny access to whoever posts them; complaints and negative comments are not deleted but
engaged. Appeals for access back use `lift_denial` as well.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from casework.workflow.hooks import Firing, guard, step


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
