"""Probing the whole application in tests: a world of cases in every workflow, the forms its pages
offer, a fingerprint of everything stored, and whether a refusal says why."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask

from casework.extensions import db
from casework.models import Case, OutboxMessage, SignOnIdentity, User, utcnow
from casework.printing.certificate import certificate_pdf
from casework.services import disposal

#: Values every input should survive: markup, template syntax, NUL, bidirectional overrides,
#: very long text, path tricks, numbers past every column's range, odd Unicode.
HOSTILE = [
    "<script>alert(1)</script>",
    "{{7*7}}",
    "\x00",
    "nul\x00byte",
    "\u202eexe.txt",
    "x" * 250_000,
    "",
    "../../etc/passwd",
    "a.pdf\x00.exe",
    "99999999999999999999",
    "😀\ufeff\u200b",
    "'; DROP TABLE cases; --",
]

#: Markup that must never come back unescaped.
SCRIPT = "<script>alert(1)</script>"


#: Tables a refused request may change on purpose: failed sign-ins are counted (whether or not
#: the name exists) so that guessing is throttled.
COUNTS = frozenset({"throttle_hits"})
#: Columns any request may move, refused or not: when a session or token was last used.
USE_TIMES = frozenset({"last_seen_at", "last_used_at"})
_PG_ROW = "(to_jsonb(r) - 'last_seen_at' - 'last_used_at')"


def _kept(table: sa.Table) -> list[sa.Column]:
    return [c for c in table.columns if c.name not in USE_TIMES]


def fingerprint(app: Flask, *, but_views: bool = False) -> str:
    """A digest of every row of every table but the counts of attempts: equal before and after
    means nothing changed.

    `but_views`: leave out the views recorded in the trails (and the chain heads, log leaves and
    log size they move): a refused request that showed a confidential case still records that
    it was seen.
    """
    view_leaf = "kind = 'case' AND row_id IN (SELECT id FROM events WHERE action = 'view')"
    digest = hashlib.sha256()
    tables = [t for t in db.metadata.sorted_tables if t.name not in COUNTS]
    with app.app_context():
        with db.engine.connect() as conn:
            if but_views and conn.dialect.name == "postgresql":
                row_text = f"({_PG_ROW} - 'head_seq' - 'head_hash')::text"
                parts = [
                    f"SELECT '{t.name}', md5(coalesce(string_agg({row_text}, '|' ORDER BY "
                    f"{row_text}), '')) FROM \"{t.name}\" r"
                    + (" WHERE r.action <> 'view'" if t.name == "events" else "")
                    + (f" WHERE NOT ({view_leaf})" if t.name == "log_leaves" else "")
                    for t in tables
                    if t.name != "log_head"
                ]
                for name, rows in conn.exec_driver_sql(" UNION ALL ".join(parts)):
                    digest.update(f"{name}:{rows}".encode())
            elif but_views:
                for table in tables:
                    if table.name == "log_head":
                        continue
                    columns = [
                        c
                        for c in _kept(table)
                        if not (table.name == "cases" and c.name in ("head_seq", "head_hash"))
                    ]
                    order = list(table.primary_key.columns) or columns
                    query = sa.select(*columns).order_by(*order)
                    if table.name == "events":
                        query = query.where(table.c.action != "view")
                    if table.name == "log_leaves":
                        query = query.where(sa.text(f"NOT ({view_leaf})"))
                    digest.update(table.name.encode())
                    for row in conn.execute(query):
                        digest.update(repr(tuple(row)).encode())
            elif conn.dialect.name == "postgresql":
                # One round trip: each table's rows digested by the server.
                row_text = f"{_PG_ROW}::text"
                parts = [
                    f"SELECT '{t.name}', md5(coalesce(string_agg({row_text}, '|' ORDER BY "
                    f"{row_text}), '')) FROM \"{t.name}\" r"
                    for t in tables
                ]
                for name, rows in conn.exec_driver_sql(" UNION ALL ".join(parts)):
                    digest.update(f"{name}:{rows}".encode())
            else:
                for table in tables:
                    order = list(table.primary_key.columns) or list(table.columns)
                    digest.update(table.name.encode())
                    for row in conn.execute(sa.select(*_kept(table)).order_by(*order)):
                        digest.update(repr(tuple(row)).encode())
            conn.rollback()
    return digest.hexdigest()


def explains(response: Any) -> bool:
    """Whether a refused response says what went wrong: a JSON message, or a page showing one."""
    if response.mimetype == "application/json":
        body = response.get_json(silent=True) or {}
        return bool((body.get("error") or {}).get("message"))
    text = response.get_data(as_text=True)
    if response.status_code in (302, 303):
        return True
    return any(mark in text for mark in ('role="alert"', 'class="notice', 'class="field-error"'))


@dataclass
class Form:
    """A form a page offers: where it posts, and its fields with the values the page gave them."""

    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    #: For select fields: the values offered.
    choices: dict[str, list[str]] = field(default_factory=dict)


class _FormFinder(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.current = Form(urlsplit(a.get("action") or self.page).path)
            self.forms.append(self.current)
        if self.current is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "file":
                self.current.files.append(name)
            elif kind in ("checkbox", "radio"):
                self.current.choices.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    self.current.fields.setdefault(name, []).append(a.get("value", "on"))
                else:
                    self.current.fields.setdefault(name, [])
            elif kind not in ("submit", "button"):
                self.current.fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select" and name:
            self.select = name
            self.current.fields.setdefault(name, [])
            self.current.choices.setdefault(name, [])
        elif tag == "option" and self.select:
            self.current.choices[self.select].append(a.get("value", ""))
            if "selected" in a:
                self.current.fields[self.select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = name
            self.current.fields.setdefault(name, [""])

    def handle_data(self, data: str) -> None:
        if self.current is not None and self.textarea:
            self.current.fields[self.textarea] = [data]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            if self.current is not None and self.select and not self.current.fields[self.select]:
                offered = [c for c in self.current.choices[self.select] if c]
                self.current.fields[self.select] = offered[:1]
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def forms_on(page: str, html: str) -> list[Form]:
    finder = _FormFinder(page)
    finder.feed(html)
    return finder.forms


def route_of(app: Flask, path: str, method: str) -> str | None:
    """The URL rule a request would reach ('METHOD /rule'), or None."""
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method=method)
    except Exception:
        return None
    for rule in app.url_map.iter_rules(endpoint):
        return f"{method} {rule.rule}"
    return None


@dataclass
class World:
    """Cases in every workflow and state that matters, and the ids the routes need."""

    complaint: str
    complaint2: str
    escalated: str
    violation: str
    violation_about_director: str
    moderation: str
    removed_post: str
    account: str
    account_requested: str
    sha256: str
    violation_sha256: str
    ids: dict[str, int]
    message_id: int
    #: Two holds in force on the violation case: one lifted by a page, one by the API.
    hold_web: int = 0
    batch: int = 0
    hold_api: int = 0
    #: An acknowledged records request, another request, and a packet released on the first.
    request: str = ""
    request2: str = ""
    packet: int = 0

    def values(self) -> dict[str, Any]:
        """Placeholders for route paths: {complaint}, {violation}, {user:staff}, ..."""
        out: dict[str, Any] = {
            k: v for k, v in self.__dict__.items() if isinstance(v, (str, int)) and k != "ids"
        }
        out.update({f"id_{k}": v for k, v in self.ids.items()})
        return out


def build_world(app: Flask, cast: Any, api: Any) -> World:
    """Open and move cases so that every page and form has something to show."""
    complaint = api.open("librarian", "complaint", summary="Closed early", channel="email")
    complaint2 = api.open("librarian", "complaint", summary="Loud music", channel="phone")
    escalated = api.open("librarian", "complaint", summary="Rude reply", channel="facebook")
    api.ok("librarian", escalated["number"], "escalate", reason="Repeated")
    violation = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["staff2"],
        category="harassment",
        description="Mocking post",
    )
    about_director = api.open(
        "librarian",
        "violation",
        subject=cast.person_ids["director"],
        category="unprofessional",
        description="Director's post",
    )
    account = api.open(
        "staff",
        "account",
        platform="instagram",
        handle="@branchlibrary",
        branch="Main Library",
        purpose="Events",
        administrators=["social"],
    )
    number = account["number"]
    api.ok("director", number, "approve")
    api.ok("social", number, "approve")
    api.ok("social", number, "activate")
    requested = api.open(
        "staff",
        "account",
        platform="x",
        handle="@other",
        branch="Main Library",
        purpose="News",
        administrators=["social"],
    )
    moderation = api.open(
        "social",
        "moderation",
        account=number,
        post_url="https://social.example/p/1",
        author="troll",
        content="Buy now",
        is_complaint="no",
    )
    removed = api.open(
        "social",
        "moderation",
        account=number,
        post_url="https://social.example/p/2",
        author="spammer",
        content="Spam",
        is_complaint="no",
    )
    api.ok("social", removed["number"], "remove", grounds="spam_or_advertising", note="Spam")
    upload = api.post(
        f"/cases/{complaint['number']}/attachments",
        "librarian",
        data={"file": (io.BytesIO(b"evidence text"), "evidence.txt")},
        content_type="multipart/form-data",
    ).get_json()
    secret = api.post(
        f"/cases/{violation['number']}/attachments",
        "director",
        data={"file": (io.BytesIO(b"secret evidence"), "secret.txt")},
        content_type="multipart/form-data",
    ).get_json()
    holds = [
        api.post(
            f"/cases/{violation['number']}/holds",
            "hr",
            json={"kind": "investigation", "reason": f"Inquiry {n}"},
        ).get_json()["id"]
        for n in (1, 2)
    ]
    request = api.open("records", "records_request", request="Board minutes", delivery="email")
    api.ok("records", request["number"], "acknowledge")
    request2 = api.open("records", "records_request", request="Budget", delivery="post")
    packet = api.post(
        f"/cases/{request['number']}/packets",
        "records",
        json={"cases": [request2["number"]]},
    ).get_json()
    cast.add_user("temp", "staff")
    with app.app_context():
        ids = {
            u.username: u.id
            for u in db.session.execute(sa.select(User).where(User.username != "system")).scalars()
        }
        escalated_id = db.session.execute(
            sa.select(Case.id).where(Case.number == escalated["number"])
        ).scalar_one()
        # A message the mail server gave up on, so the outbox offers to send it again.
        message = OutboxMessage(
            kind="escalated",
            case_id=escalated_id,
            user_id=ids["director"],
            recipient="director@library.example",
            subject=f"{escalated['number']}: complaint escalated to the Library Director",
            body_text="A complaint is escalated to you.",
            status="failed",
            attempts=5,
            last_error="550 mailbox unavailable",
        )
        db.session.add(message)
        # An identity at a sign-on provider, so the user page offers to unlink it.
        identity = SignOnIdentity(
            user_id=ids["temp"], issuer="https://idp.example", subject="temp-sub", email="t@x"
        )
        db.session.add(identity)
        db.session.commit()
        message_id = message.id
        # A disposal batch of the removed post, prepared as if six years on.
        records = db.session.execute(sa.select(User).where(User.username == "records")).scalar()
        batch_id = disposal.prepare_batch(
            records, "PR-07", certificate_pdf, now=utcnow() + timedelta(days=6 * 366)
        ).id
        db.session.commit()
        ids["sign_on_temp"] = identity.id
    return World(
        complaint=complaint["number"],
        complaint2=complaint2["number"],
        escalated=escalated["number"],
        violation=violation["number"],
        violation_about_director=about_director["number"],
        moderation=moderation["number"],
        removed_post=removed["number"],
        account=number,
        account_requested=requested["number"],
        sha256=upload["sha256"],
        violation_sha256=secret["sha256"],
        ids={**ids, **{f"person_{k}": v for k, v in cast.person_ids.items()}},
        message_id=message_id,
        batch=batch_id,
        hold_web=holds[0],
        hold_api=holds[1],
        request=request["number"],
        request2=request2["number"],
        packet=packet["id"],
    )


#: Pages worth reading for their forms, per role ({...} filled from the world).
FORM_PAGES = {
    None: ["/sign-in"],
    "librarian": [
        "/cases/new/complaint",
        "/cases/{complaint}",
        "/cases/{complaint}/transitions/engage",
        "/cases/{complaint}/transitions/escalate",
        "/notifications/preferences",
        "/account/password",
        "/cases/{moderation}/transitions/keep",
        "/cases/{moderation}/transitions/remove",
    ],
    "staff": ["/cases/new/violation", "/cases/new/account"],
    "social": [
        "/cases/new/moderation",
        "/cases/{moderation}/transitions/refer",
        "/cases/{removed_post}/transitions/deny_access",
        "/cases/{account_requested}/transitions/deny",
    ],
    "director": [
        "/cases/{violation}",
        "/cases/{violation}/transitions/inspect",
        "/cases/{violation}/transitions/dismiss",
        "/cases/{escalated}/transitions/resolve",
        "/cases/{account}/transitions/retire",
        "/cases/{account_requested}/transitions/approve",
        "/people",
        "/cases/{request}",
        "/cases/{request}/packet",
    ],
    "admin": [
        "/admin/users/new",
        "/admin/users/{id_temp}",
        "/notifications/outbox",
    ],
}


def discover_forms(world: World, visitors: dict[str | None, Any]) -> list[tuple[Any, Form]]:
    """Every form on the pages above, with the visitor that saw it (one per action)."""
    values = world.values()
    found: dict[str, tuple[Any, Form]] = {}
    for role, pages in FORM_PAGES.items():
        visitor = visitors[role]
        for page in pages:
            path = page.format(**values)
            response = visitor.get(path)
            assert response.status_code == 200, (role, path, response.status_code)
            for form in forms_on(path, response.get_data(as_text=True)):
                if re.search(r"/sign-out$", form.action):
                    continue  # ending the session would end the probe
                found.setdefault(form.action, (visitor, form))
    return list(found.values())
