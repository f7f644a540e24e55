"""Mail bodies from templates (plain text and HTML), with a link to the case built from BASE_URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from flask import current_app
from werkzeug.routing import BuildError

from casework.library import library
from casework.models import Case, User
from casework.notifications.rules import Kind
from casework.presenting.values import value_text
from casework.presenting.words import local_time
from casework.workflow import Workflow

#: The web UI's case page, and its address below BASE_URL should the UI not be loaded.
CASE_ENDPOINT = "cases.case_page"
CASE_PATH = "/cases/{number}"
#: The subject of every e-mail about a confidential case, whatever happened.
ATTENTION_SUBJECT = "A case needs your attention"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def page_link(endpoint: str, **values: Any) -> str:
    """An absolute URL of one of Casework's pages, built from BASE_URL (no request needed).

    Raises werkzeug's `BuildError` when no page has that endpoint.
    """
    parts = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def case_link(number: str) -> str:
    """The case's page in the web UI, as an absolute URL."""
    try:
        return page_link(CASE_ENDPOINT, number=number)
    except BuildError:
        return base_url() + CASE_PATH.format(number=quote(number))


def mail_fields(case: Case, workflow: Workflow) -> list[tuple[str, str]]:
    """The (label, value) pairs an e-mail about this case may show; none for confidential ones."""
    if workflow.access.confidential:
        return []
    values = case.fields
    shown = []
    for name in workflow.mail_fields:
        field = workflow.field(name)
        value = values.get(name)
        if field is None or field.confidential or value in (None, "", []):
            continue
        # A line of plain text: the value's own line breaks would break the layout.
        shown.append((field.label, " ".join(value_text(field, value).split())))
    return shown


def render_mail(
    kind: Kind, case: Case, workflow: Workflow, recipient: User, facts: dict[str, Any]
) -> RenderedMail:
    """Subject and bodies of one e-mail.

    An e-mail about a confidential case carries nothing of it: the same subject and text for
    every kind ("a case needs your attention") and the link; `facts` are not even handed over.
    """
    context: dict[str, Any] = {
        "library": library().name,
        "recipient": recipient.name,
        "link": case_link(case.number),
        "preferences": page_link("notifications.preferences"),
        "kind": kind,
    }
    if workflow.access.confidential:
        template, subject = "attention", ATTENTION_SUBJECT
    else:
        template, subject = kind.template, kind.subject.format(number=case.number)
        context.update(
            number=case.number,
            workflow=workflow.title,
            state=workflow.states[case.state].label,
            fields=mail_fields(case, workflow),
            due=local_time(case.due_at),
            **facts,
        )
    env = current_app.jinja_env
    return RenderedMail(
        subject=subject,
        text=env.get_template(f"mail/{template}.txt").render(context),
        html=env.get_template(f"mail/{template}.html").render(context),
    )
