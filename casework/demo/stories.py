"""The scripted demo cases: social media accounts, complaints, third-party posts, staff
violation reports and public-records requests, each told as the steps people took."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from casework.demo.seeder import Seeder
from casework.library import library
from casework.models import Case, utcnow

COMPLAINTS = [
    ("Book sale hours were wrong on the event page", "facebook"),
    ("Story time was cancelled without notice", "facebook"),
    ("Unhappy that the teen room closes early", "instagram"),
    ("Long hold queue for a popular title", "x"),
    ("Parking lot lights are out at night", "phone"),
    ("Staff member was curt at the desk", "in_person"),
    ("Wi-Fi drops every few minutes on the second floor", "email"),
    ("Video of the author talk has no captions", "youtube"),
    ("Overdue fine seems wrong", "email"),
    ("Comment says the library wastes tax money", "facebook"),
    ("Noise in the quiet study area", "in_person"),
    ("Printer charged twice", "phone"),
    ("Asked why the branch closed for a holiday", "facebook"),
    ("Complaint about a display in the lobby", "instagram"),
    ("Website catalogue search is slow", "email"),
    ("Bookmobile skipped a stop", "tiktok"),
]
BRANCHES = [
    "Main Library",
    "Wheelersburg Branch",
    "New Boston Branch",
    "Lucasville Branch",
    "South Webster Branch",
]


def seed_stories() -> None:
    """Open the scripted cases and take their steps, over the last months."""
    s = Seeder()
    now = utcnow()
    accounts = _accounts(s, now)
    _complaints(s, now)
    _posts(s, now, accounts)
    _violations(s, now)
    _records_requests(s, now)


def _accounts(s: Seeder, now: datetime) -> list[Case]:
    """The account registry: approved, retired, pending and denied accounts."""
    day = timedelta(days=1)
    accounts = []
    for handle, platform, branch in (
        ("@PortsmouthLibrary", "facebook", "Main Library"),
        ("@portsmouthlibrary", "instagram", "Main Library"),
        ("Portsmouth Public Library", "youtube", "Community Relations"),
        ("@PPLTeens", "tiktok", "Main Library"),
    ):
        start = now - 120 * day
        acc = s.open(
            "social",
            "account",
            {
                "platform": platform,
                "handle": handle,
                "branch": branch,
                "purpose": "Promote library programs, services and events.",
                "administrators": ["social", "librarian"],
            },
            start,
        )
        s.fire("director", acc, "approve", start + day)
        s.fire("social2", acc, "approve", start + 2 * day)
        s.fire("social", acc, "activate", start + 3 * day)
        accounts.append(acc)
    retired = s.open(
        "staff",
        "account",
        {
            "platform": "x",
            "handle": "@PPLWheelersburg",
            "branch": "Wheelersburg Branch",
            "purpose": "Branch news.",
            "administrators": ["staff", "social"],
        },
        now - 300 * day,
    )
    s.fire("director", retired, "approve", now - 299 * day)
    s.fire("social", retired, "approve", now - 298 * day)
    s.fire("social", retired, "activate", now - 297 * day)
    s.fire(
        "director",
        retired,
        "retire",
        now - 30 * day,
        reason="Branch posts moved to the main account.",
    )
    pending = s.open(
        "staff",
        "account",
        {
            "platform": "instagram",
            "handle": "@PPLLucasville",
            "branch": "Lucasville Branch",
            "purpose": "Photos of branch programs.",
            "administrators": ["staff"],
        },
        now - 3 * day,
    )
    s.fire("director", pending, "approve", now - 2 * day)
    approved = s.open(
        "staff",
        "account",
        {
            "platform": "youtube",
            "handle": "PPL Story Time",
            "branch": "Main Library",
            "purpose": "Recorded story times.",
            "administrators": ["librarian"],
        },
        now - 9 * day,
    )
    s.fire("director", approved, "approve", now - 8 * day)
    s.fire("social2", approved, "approve", now - 7 * day)
    s.open(
        "staff",
        "account",
        {
            "platform": "linkedin",
            "handle": "Portsmouth Public Library Careers",
            "branch": "Administration",
            "purpose": "Job postings.",
            "administrators": ["hr"],
        },
        now - day,
    )
    denied = s.open(
        "staff",
        "account",
        {
            "platform": "other_social",
            "handle": "@ppl_memes",
            "branch": "Main Library",
            "purpose": "Humour.",
        },
        now - 40 * day,
    )
    s.fire(
        "director",
        denied,
        "deny",
        now - 38 * day,
        reason="Not in keeping with the library's voice.",
    )
    return accounts


def _complaints(s: Seeder, now: datetime) -> None:
    """Complaints, in every state; the newest few are overdue."""
    rng = random.Random(20261123)
    day = timedelta(days=1)
    for index in range(40):
        summary, channel = COMPLAINTS[index % len(COMPLAINTS)]
        opened = now - timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 8))
        fields: dict[str, Any] = {
            "summary": summary,
            "channel": channel,
            "branch": rng.choice(BRANCHES),
        }
        if channel in ("facebook", "instagram", "x", "youtube", "tiktok"):
            fields["post_url"] = f"https://social.example/{channel}/posts/{1000 + index}"
            fields["content"] = f"{summary}. Please fix this."
        if channel in ("phone", "email") and index % 2:
            fields["contact"] = "740-555-0134" if channel == "phone" else "reader@example.org"
        if index % 3:
            fields["patron"] = rng.choice(["A. Reader", "J. Smith", "M. Garcia", "K. Johnson"])
        case = s.open(rng.choice(["librarian", "social"]), "complaint", fields, opened)
        fate = index % 8
        if index % 4 == 1:  # some work is given to someone, so queues show "assigned to you"
            s.assign("librarian", case, "social" if index % 8 == 1 else "librarian", opened)
        if fate in (0, 1):
            continue  # received; overdue if opened more than two business days ago
        s.fire(
            "librarian",
            case,
            "engage",
            opened + timedelta(hours=20),
            response="Replied to the patron with the correct information and an apology.",
        )
        if fate == 2:
            continue
        if fate == 3:
            s.fire(
                "librarian",
                case,
                "escalate",
                opened + timedelta(days=1, hours=2),
                reason="The patron asked for the Director.",
            )
            continue
        if fate == 4:
            s.fire(
                "social",
                case,
                "escalate",
                opened + timedelta(days=1, hours=3),
                reason="Repeated complaint.",
            )
            s.fire(
                "director",
                case,
                "resolve",
                opened + 3 * day,
                resolution="The Director called the patron.",
            )
            continue
        s.note("librarian", case, "Checked with the branch manager.", opened + timedelta(days=1))
        s.fire(
            "librarian",
            case,
            "resolve",
            opened + 2 * day,
            resolution="Fixed; the patron thanked us.",
        )
        if fate == 7:
            s.fire("director", case, "reopen", opened + 5 * day, reason="The patron wrote again.")


def _posts(s: Seeder, now: datetime, accounts: list[Case]) -> None:
    """Third-party posts on the library's accounts, removed, kept or referred."""
    posts = [
        (
            "Buy cheap followers at example.biz!!!",
            "no",
            "remove",
            {"grounds": "spam_or_advertising", "note": "Advertising."},
        ),
        (
            "You are all idiots and should be fired",
            "no",
            "remove",
            {"grounds": "disparagement_or_defamation", "note": "Personal attacks."},
        ),
        ("Why is the library always closed on Sundays? Terrible service.", "yes", "refer", {}),
        ("Great story time today!", "no", "keep", {"note": "Positive comment."}),
        ("The new hours make no sense for working parents.", "yes", None, {}),
        ("Check out my mixtape", "no", None, {}),
    ]
    for index, (content, is_complaint, action, fields) in enumerate(posts):
        at = now - timedelta(days=10 - index)
        post = s.open(
            "social",
            "moderation",
            {
                "account": accounts[index % 2].number,
                "post_url": f"https://social.example/post/{500 + index}",
                "author": f"user{100 + index}",
                "content": content,
                "is_complaint": is_complaint,
            },
            at,
        )
        if action:
            s.fire("social", post, action, at + timedelta(hours=2), **fields)
        if index == 1:
            s.fire(
                "social",
                post,
                "deny_access",
                at + timedelta(hours=3),
                reason="Repeated harassment of staff.",
                duration="90_days",
                review_on=(now + timedelta(days=60)).date().isoformat(),
            )


def _violations(s: Seeder, now: datetime) -> None:
    """Staff violation reports (confidential)."""
    day = timedelta(days=1)
    people = s.people
    v1 = s.open(
        "staff",
        "violation",
        {
            "subject": people["Jordan Lee"].id,
            "category": "harassment",
            "protected_classes": ["religion"],
            "on_duty": "off",
            "platform": "Facebook",
            "description": "Posted a mocking comment about a coworker's religion.",
        },
        now - 20 * day,
    )
    s.attach(
        "director",
        v1,
        "screenshot-of-post.txt",
        "Screenshot transcript: the post as it appeared on Facebook.",
        now - 20 * day,
    )
    s.fire(
        "director",
        v1,
        "inspect",
        now - 19 * day,
        cause="Report from a staff member.",
        findings="The post is public and as described.",
    )
    s.fire(
        "director",
        v1,
        "review",
        now - 15 * day,
        assessment="Clear violation of the harassment clause.",
    )
    s.fire(
        "director",
        v1,
        "discipline",
        now - 10 * day,
        action="written_warning",
        handbook_reference="Personnel Policy Handbook 4.2",
    )
    v2 = s.open(
        "librarian",
        "violation",
        {
            "subject": people["Casey Morgan"].id,
            "category": "unprofessional",
            "on_duty": "unknown",
            "platform": "X",
            "description": "Criticised the library's budget vote in a personal post.",
        },
        now - 12 * day,
    )
    s.fire(
        "director",
        v2,
        "dismiss",
        now - 9 * day,
        reason="protected_communication",
        explanation="Speech on a matter of public concern, protected by the Constitution.",
    )
    v3 = s.open(
        "staff",
        "violation",
        {
            "subject": people["Riley Adams"].id,
            "category": "confidential_disclosure",
            "on_duty": "on",
            "description": "Shared a patron's borrowing history in a group chat.",
        },
        now - 4 * day,
    )
    s.fire(
        "director",
        v3,
        "inspect",
        now - 3 * day,
        cause="Report from a staff member.",
        findings="Screenshot confirms it.",
    )
    v4 = s.open(
        "hr",
        "violation",
        {
            "subject": people["Pat Kowalski"].id,
            "category": "logo_misuse",
            "description": "Used the library logo on a personal fundraiser page.",
        },
        now - 6 * day,
    )
    s.fire(
        "director",
        v4,
        "inspect",
        now - 5 * day,
        cause="Seen on a public page.",
        findings="Logo used without permission.",
    )
    s.fire(
        "director", v4, "review", now - 2 * day, assessment="Needs a conversation about logo use."
    )
    s.open(
        "librarian",
        "violation",
        {
            "subject": people["Terry Brooks"].id,
            "category": "workplace_impact",
            "description": "Posts during desk shifts.",
        },
        now - day,
    )
    # The Director as subject: the Board of Trustees acts in the Director's place.
    v6 = s.open(
        "librarian",
        "violation",
        {
            "subject": people["Dana Whitfield"].id,
            "category": "unprofessional",
            "description": "A post that may expose the library to a lawsuit.",
        },
        now - 8 * day,
    )
    s.fire(
        "trustee",
        v6,
        "inspect",
        now - 6 * day,
        cause="Report to the Board.",
        findings="The post was removed the same day.",
    )


def _records_requests(s: Seeder, now: datetime) -> None:
    """Public-records requests: one taken at the desk and overdue, one acknowledged, others
    answered."""
    day = timedelta(days=1)
    r1 = s.open(
        "librarian",
        "records_request",
        {
            "request": "All complaints about the Main Library's Facebook page since January.",
            "delivery": "email",
            "requester": "Morgan Ellis",
            "delivery_address": "morgan.ellis@example.org",
            "received_at": (now - 9 * day).astimezone(library().tz).strftime("%Y-%m-%dT%H:%M"),
        },
        now - 9 * day,
    )
    r2 = s.open(
        "records",
        "records_request",
        {
            "request": "The library's social media policy and its account registry.",
            "delivery": "pickup",
        },
        now - 3 * day,
    )
    s.fire("records", r2, "acknowledge", now - 2 * day, note="Copies ready for pickup on Friday.")
    r3 = s.open(
        "records",
        "records_request",
        {"request": "Borrowing records of a named patron.", "delivery": "post"},
        now - 5 * day,
    )
    s.fire("records", r3, "acknowledge", now - 4 * day)
    s.fire(
        "records",
        r3,
        "deny",
        now - 3 * day,
        authorities="Ohio R.C. 149.432 (library patron records)",
        reason="Records that identify a patron's use of the library are not public records.",
    )
    s.assign("records", r1, "records", now - 8 * day)
    r4 = s.open(
        "records",
        "records_request",
        {"request": "The registry of the library's social media accounts.", "delivery": "email"},
        now - 7 * day,
    )
    s.fire("records", r4, "acknowledge", now - 7 * day)
    s.fire("records", r4, "fulfil", now - 6 * day, released="The account registry (PDF).")
    r5 = s.open(
        "director",
        "records_request",
        {"request": "Complaints received about story time in 2026.", "delivery": "in_person"},
        now - 6 * day,
    )
    s.fire("records", r5, "acknowledge", now - 5 * day)
    s.fire(
        "records",
        r5,
        "fulfil_partially",
        now - 4 * day,
        released="Public-records copies of three complaints.",
        authorities="Ohio R.C. 149.432 (library patron records)",
        reason="Names and handles of patrons are withheld.",
    )
