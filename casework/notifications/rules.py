"""Who is told what: the kinds of e-mail notification and the events that cause them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """A kind of notification; each user can turn each kind off."""

    key: str
    #: How the preferences page names it.
    label: str
    #: The subject line; `{number}` is the case number. Confidential cases always get
    #: "A case needs your attention", whatever the kind.
    subject: str
    #: The templates `mail/<template>.txt` and `mail/<template>.html`.
    template: str
    #: Who is told: users holding one of these roles on the case (stand-ins included).
    roles: tuple[str, ...]


ESCALATED = "escalated"
VIOLATION_REPORTED = "violation_reported"
VIOLATION_DECIDED = "violation_decided"
POST_FLAGGED = "post_flagged"
ACCOUNT_REQUESTED = "account_requested"
OVERDUE = "overdue"

KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(
            ESCALATED,
            "A complaint is escalated to the Library Director",
            "{number}: complaint escalated to the Library Director",
            "escalated",
            ("director",),
        ),
        Kind(
            VIOLATION_REPORTED,
            "A staff policy violation is reported",
            "A case needs your attention",
            "attention",
            ("director",),
        ),
        Kind(
            VIOLATION_DECIDED,
            "A staff policy violation is decided (disciplined or dismissed)",
            "A case needs your attention",
            "attention",
            ("hr",),
        ),
        Kind(
            POST_FLAGGED,
            "A post on a library account is flagged for moderation",
            "{number}: post flagged for moderation",
            "post_flagged",
            ("social_media_team",),
        ),
        Kind(
            ACCOUNT_REQUESTED,
            "A new social media account is requested",
            "{number}: new social media account requested",
            "account_requested",
            ("social_media_team",),
        ),
        Kind(
            OVERDUE,
            "A case assigned to you (or, unassigned, awaiting you) is overdue",
            "{number} is overdue",
            "overdue",
            # The sweep picks the assignee, else whoever may fire the expected transition.
            (),
        ),
    )
}

#: (workflow, state reached) -> the kind of notification that reaching it causes. Opening a case
#: reaches the workflow's initial state.
WHEN_REACHED: dict[tuple[str, str], str] = {
    ("complaint", "escalated"): ESCALATED,
    ("violation", "reported"): VIOLATION_REPORTED,
    ("violation", "disciplined"): VIOLATION_DECIDED,
    ("violation", "dismissed"): VIOLATION_DECIDED,
    ("moderation", "flagged"): POST_FLAGGED,
    ("account", "requested"): ACCOUNT_REQUESTED,
}

#: The intake fields an e-mail may show, per workflow. Free text is left out on purpose: a
#: complaint's summary, content or link may name the patron (Ohio R.C. 149.432), and a post's
#: author is a member of the public. Confidential workflows show no field at all.
MAIL_FIELDS: dict[str, tuple[str, ...]] = {
    "complaint": ("channel", "branch"),
    "moderation": ("account", "is_complaint"),
    "account": ("platform", "handle", "branch", "purpose"),
}
