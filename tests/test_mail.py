"""E-mail notifications: who is told, what they read, and delivery through a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from mailserver import MailServer

from casework.extensions import db
from casework.models import OutboxMessage, User, utcnow
from casework.notifications.delivery import DeliveryReport, backoff, deliver_outbox
from casework.notifications.smtp import smtp_settings
from casework.services import firing, loading, opening
from casework.services.users import find_user

BASE = "https://casework.library.example"
FROM = "Casework <casework@library.example>"


def address(username: str) -> str:
    return f"{username}@library.example"


def give_addresses(app: Any, *usernames: str) -> None:
    with app.app_context():
        for user in db.session.execute(sa.select(User)).scalars():
            if not usernames or user.username in usernames:
                user.email = address(user.username)
        db.session.commit()


def deliver(app: Any, now: Any = None) -> DeliveryReport:
    with app.app_context():
        return deliver_outbox(now)


def outbox(app: Any) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars()
        found = list(rows)
        db.session.commit()  # ends the read; the rows stay loaded
        return found


def mailbox(server: MailServer, username: str) -> list[Any]:
    return [m for m in server.messages if m.rcpt_tos == [address(username)]]


@pytest.fixture
def mail_server():
    with MailServer() as server:
        yield server


@pytest.fixture
def app(make_app, mail_server):
    return make_app(SMTP_URL=mail_server.url, BASE_URL=BASE, MAIL_FROM=FROM)


@pytest.fixture
def staff_mail(app, cast):
    """Every user of the cast has an e-mail address."""
    give_addresses(app)
    return cast


COMPLAINT = {
    "summary": "Jane Roe says the opening hours are wrong",
    "channel": "facebook",
    "patron": "Jane Roe",
    "post_url": "https://facebook.example/janeroe/posts/1",
    "content": "@janeroe: your hours on the website are wrong!",
    "branch": "Main Library",
}


def test_director_gets_the_escalated_complaint_with_a_link_and_no_patron(
    app, api, staff_mail, mail_server
):
    number = api.open("librarian", "complaint", **COMPLAINT)["number"]
    api.ok("librarian", number, "escalate", reason="Jane Roe asked for the Director.")

    report = deliver(app)

    assert (report.sent, report.retrying, report.failed, report.waiting) == (1, 0, 0, 0)
    [message] = mail_server.messages
    assert message.rcpt_tos == [address("director")]
    assert message.mail_from == "casework@library.example"
    assert message.message["From"] == FROM
    assert message.subject == f"{number}: complaint escalated to the Library Director"
    assert message.message["Auto-Submitted"] == "auto-generated"
    link = f"{BASE}/cases/{number}"
    assert link in message.text
    assert f'href="{link}"' in message.html
    assert "escalated to the Library Director by Librarian" in message.text
    assert "Facebook" in message.text and "Main Library" in message.text
    for part in (message.subject, message.text, message.html, message.raw):
        for identity in ("Jane", "Roe", "janeroe"):
            assert identity not in part
    [row] = outbox(app)
    assert (row.status, row.attempts, row.kind) == ("sent", 1, "escalated")
    assert row.sent_at is not None


def test_mail_waits_while_the_server_is_down_and_goes_once_it_is_back(
    app, api, staff_mail, mail_server
):
    mail_server.stop()
    number = api.open("librarian", "complaint", summary="Wi-Fi", channel="email")["number"]
    escalated = api.ok("librarian", number, "escalate", reason="Asked for the Director.")
    assert escalated["state"] == "escalated"  # the case moves, whatever the mail server does

    first = utcnow()
    report = deliver(app, first)
    assert (report.sent, report.retrying, report.failed, report.waiting) == (0, 1, 0, 1)
    assert "could not reach the mail server" in (report.problem or "")
    [row] = outbox(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "could not reach the mail server" in row.last_error
    assert row.next_attempt_at == first + timedelta(seconds=60)

    mail_server.start()
    early = deliver(app, first + timedelta(seconds=30))
    assert (early.sent, early.waiting) == (0, 1)  # the backoff is respected
    assert mail_server.messages == []

    later = deliver(app, first + timedelta(seconds=61))
    assert (later.sent, later.waiting) == (1, 0)
    [message] = mail_server.messages
    assert message.rcpt_tos == [address("director")]
    assert number in message.subject
    [row] = outbox(app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")


def violation_fields(cast) -> dict[str, Any]:
    return {
        "subject": cast.person_ids["staff2"],
        "category": "harassment",
        "protected_classes": ["religion"],
        "on_duty": "off",
        "platform": "Facebook",
        "post_url": "https://facebook.example/staff2/posts/77",
        "description": "Called a coworker names in a public post",
        "occurred_at": "2026-03-01T14:30",
    }


#: Words that would betray something of the violation case below, were they in an e-mail.
VIOLATION_TELLTALES = (
    "VIO",
    "violation",
    "Violation",
    "harassment",
    "Harassing",
    "harassing",
    "Religion",
    "Off duty",
    "Facebook",
    "staff2",
    "Staff2",
    "coworker",
    "Written warning",
    "Handbook",
    "4.2",
    "Reported",
    "Disciplined",
)


def test_violation_mail_carries_no_field_values_and_never_reaches_the_subject(
    app, api, staff_mail, mail_server
):
    number = api.open("staff", "violation", **violation_fields(staff_mail))["number"]
    api.ok("director", number, "inspect", cause="A report", findings="The post is there")
    api.ok("director", number, "review", assessment="It is harassment")
    api.ok("director", number, "discipline", action="written_warning", handbook_reference="4.2")

    assert deliver(app).sent == 2
    reported, decided = mail_server.messages
    assert reported.rcpt_tos == [address("director")]  # told of the report
    assert decided.rcpt_tos == [address("hr")]  # told of the decision
    for message in (reported, decided):
        assert message.subject == "A case needs your attention"
        link = f"{BASE}/cases/{number}"
        assert link in message.text and f'href="{link}"' in message.html
        body = message.text.replace(link, "").replace(number, "")
        html = message.html.replace(link, "").replace(number, "")
        for word in VIOLATION_TELLTALES:
            assert word not in body and word not in html and word not in message.subject
    assert mailbox(mail_server, "staff2") == []  # the subject
    assert mailbox(mail_server, "staff") == []  # the reporter sees a receipt, no more


def test_trustee_is_told_when_the_director_is_the_subject(app, api, staff_mail, mail_server):
    api.open(
        "staff",
        "violation",
        subject=staff_mail.person_ids["director"],
        category="workplace_impact",
        description="Posts during meetings",
    )
    assert deliver(app).sent == 1
    assert [m.rcpt_tos for m in mail_server.messages] == [[address("trustee")]]


def test_social_media_team_is_told_of_flagged_posts_and_requested_accounts_not_of_their_own(
    app, api, staff_mail, mail_server
):
    account = api.open(
        "staff",
        "account",
        platform="instagram",
        handle="@ppl_teens",
        branch="Teen Services",
        purpose="Teen programs.",
    )["number"]
    api.open(
        "social",
        "moderation",
        post_url="https://instagram.example/p/1",
        author="spammer99",
        content="Buy followers now",
        is_complaint="no",
    )
    deliver(app)

    requested = [m for m in mail_server.messages if "account requested" in m.subject]
    assert {m.rcpt_tos[0] for m in requested} == {address("social"), address("social2")}
    assert len(requested) == 2
    assert all(m.subject == f"{account}: new social media account requested" for m in requested)
    assert "@ppl_teens" in requested[0].text and "Instagram" in requested[0].text
    flagged = [m for m in mail_server.messages if "flagged" in m.subject]
    assert [m.rcpt_tos for m in flagged] == [[address("social2")]]  # not social, who flagged it
    assert "spammer99" not in flagged[0].text and "Buy followers" not in flagged[0].text
    assert len(mail_server.messages) == 3


def test_a_user_who_turned_a_kind_off_is_not_told(app, api, staff_mail, mail_server):
    with app.app_context():
        find_user("social2").mail_optout = "post_flagged"
        db.session.commit()
    api.open(
        "social",
        "moderation",
        post_url="https://x.example/p/2",
        content="Rude",
        is_complaint="no",
    )
    assert outbox(app) == []
    assert deliver(app).sent == 0


def test_nobody_without_an_address_is_queued(app, api, cast, mail_server):
    give_addresses(app, "hr")  # the director has no e-mail address
    number = api.open("librarian", "complaint", summary="Noise", channel="in_person")["number"]
    api.ok("librarian", number, "escalate", reason="Loud.")
    assert outbox(app) == []


def test_a_refused_transition_queues_nothing(app, api, staff_mail):
    number = api.open("librarian", "complaint", summary="Noise", channel="in_person")["number"]
    stale = api.fire("librarian", number, "escalate", version=99, reason="Loud.")
    assert stale.status_code == 409
    assert outbox(app) == []


def test_the_outbox_row_belongs_to_the_transaction_of_its_event(app, staff_mail):
    with app.app_context():
        librarian = find_user("librarian")
        case = opening.open_case(librarian, "complaint", {"summary": "Noise", "channel": "phone"})
        db.session.commit()
        loaded = loading.load_case(librarian, case.number, write=True)
        firing.fire(librarian, loaded, "escalate", loaded.case.version, {"reason": "x"})
        assert db.session.execute(sa.select(sa.func.count(OutboxMessage.id))).scalar_one() == 1
        db.session.rollback()
    assert outbox(app) == []


def test_a_recipient_refused_for_good_is_marked_failed_at_once(app, api, staff_mail, mail_server):
    mail_server.handler.refuse.add(address("director"))
    number = api.open("librarian", "complaint", summary="Noise", channel="phone")["number"]
    api.ok("librarian", number, "escalate", reason="Loud.")

    report = deliver(app)

    assert (report.sent, report.failed, report.waiting) == (0, 1, 0)
    [row] = outbox(app)
    assert row.status == "failed" and row.attempts == 1
    assert "550" in row.last_error and address("director") in row.last_error


def test_a_message_that_keeps_failing_is_marked_failed_after_the_last_try(
    make_app, mail_server, cast
):
    app = make_app(SMTP_URL=mail_server.url, MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_SECONDS=10)
    give_addresses(app)
    mail_server.stop()
    with app.app_context():
        librarian = find_user("librarian")
        case = opening.open_case(librarian, "complaint", {"summary": "Noise", "channel": "phone"})
        loaded = loading.load_case(librarian, case.number, write=True)
        firing.fire(librarian, loaded, "escalate", 1, {"reason": "x"})
        db.session.commit()

    now = utcnow()
    waits = []
    for _ in range(3):
        report = deliver(app, now)
        [row] = outbox(app)
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert (report.failed, report.waiting) == (1, 0)
    [row] = outbox(app)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "could not reach the mail server" in row.last_error
    assert waits[:2] == [timedelta(seconds=10), timedelta(seconds=20)]  # doubling
    assert deliver(app, now + timedelta(days=1)).sent == 0  # a failed message is not retried


def test_backoff_doubles_up_to_four_hours():
    first = timedelta(seconds=60)
    assert [backoff(n, first).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(9, first) == timedelta(hours=4)
    assert backoff(500, first) == timedelta(hours=4)


def test_credentials_in_the_smtp_url_are_used(make_app, cast):
    with MailServer(credentials=("casework", "s3cret/pass")) as server:
        url = server.url.replace("s3cret/pass", "s3cret%2Fpass")
        app = make_app(SMTP_URL=url)
        give_addresses(app)
        with app.app_context():
            librarian = find_user("librarian")
            case = opening.open_case(librarian, "complaint", {"summary": "N", "channel": "phone"})
            loaded = loading.load_case(librarian, case.number, write=True)
            firing.fire(librarian, loaded, "escalate", 1, {"reason": "x"})
            db.session.commit()
        assert deliver(app).sent == 1
        assert server.logins == ["casework"]


def test_starttls_required_but_not_offered_keeps_the_message(make_app, mail_server, cast):
    app = make_app(SMTP_URL=mail_server.url + "?starttls=1")
    give_addresses(app)
    with app.app_context():
        librarian = find_user("librarian")
        case = opening.open_case(librarian, "complaint", {"summary": "N", "channel": "phone"})
        loaded = loading.load_case(librarian, case.number, write=True)
        firing.fire(librarian, loaded, "escalate", 1, {"reason": "x"})
        db.session.commit()
    report = deliver(app)
    assert (report.sent, report.waiting) == (0, 1)
    assert "STARTTLS" in (report.problem or "")
    assert mail_server.messages == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (None, "no mail server is set"),
        ("mail.example:25", "must start with smtp://"),
        ("smtp://:25", "names no host"),
        ("smtp://mail.example:http", "port is not a number"),
        ("smtp://mail.example?starttls=maybe", "starttls must be 1 or 0"),
        ("smtp://mail.example?tls=1", "unknown option 'tls'"),
    ],
)
def test_without_a_usable_mail_server_messages_wait(make_app, cast, url, problem):
    app = make_app(SMTP_URL=url)
    give_addresses(app)
    with app.app_context():
        librarian = find_user("librarian")
        case = opening.open_case(librarian, "complaint", {"summary": "N", "channel": "phone"})
        loaded = loading.load_case(librarian, case.number, write=True)
        firing.fire(librarian, loaded, "escalate", 1, {"reason": "x"})
        db.session.commit()
    report = deliver(app)
    assert problem in (report.problem or "")
    assert (report.sent, report.waiting) == (0, 1)
    [row] = outbox(app)
    assert (row.status, row.attempts) == ("pending", 0)


def test_smtp_url_settings():
    s = smtp_settings("smtp://mailer:p%40ss@mail.example:587?starttls=1&timeout=5")
    assert (s.host, s.port, s.username, s.password, s.starttls, s.tls, s.timeout) == (
        "mail.example",
        587,
        "mailer",
        "p@ss",
        True,
        False,
        5.0,
    )
    assert smtp_settings("smtps://mail.example").port == 465
    assert smtp_settings("smtp://mail.example").port == 25
    assert "p@ss" not in s.describe() and "mail.example:587" in s.describe()


# --- the pages --------------------------------------------------------------------------------


def sign_in(client, app, username: str) -> None:
    from casework.http.identity import SESSION_KEY
    from casework.services import sessions

    with app.app_context():
        user = find_user(username)
        session_id = user.get_id()
        key = sessions.start(user)
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        session[SESSION_KEY] = key


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def test_each_user_chooses_the_kinds_of_mail_they_get(app, client, api, staff_mail, mail_server):
    sign_in(client, app, "director")
    page = client.get("/notifications/preferences")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "A complaint is escalated to the Library Director" in html
    assert "A staff policy violation is reported" in html
    assert "decided" not in html  # HR's kind
    assert address("director") in html

    kept = ["violation_reported", "overdue", "appeal_reviewed", "complaint_answer_corrected"]
    saved = client.post(
        "/notifications/preferences", data={"kind": kept, "csrf_token": csrf_token(html)}
    )
    assert saved.status_code == 302
    with app.app_context():
        assert find_user("director").mail_optout == "escalated"
    again = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'value="escalated">' in again and 'value="overdue" checked>' in again

    number = api.open("librarian", "complaint", summary="N", channel="phone")["number"]
    api.ok("librarian", number, "escalate", reason="x")
    assert outbox(app) == []  # the director turned escalations off


def test_preferences_refuse_a_form_without_its_token_or_with_unknown_kinds(app, client, staff_mail):
    sign_in(client, app, "hr")
    html = client.get("/notifications/preferences").get_data(as_text=True)
    assert client.post("/notifications/preferences", data={"kind": []}).status_code == 400
    bad = client.post(
        "/notifications/preferences", data={"kind": ["nonsense"], "csrf_token": csrf_token(html)}
    )
    assert bad.status_code == 422
    assert "Choose among the kinds of e-mail listed" in bad.get_data(as_text=True)
    with app.app_context():
        assert find_user("hr").mail_optout == ""


def test_preferences_need_a_signed_in_user(client, app):
    response = client.get("/notifications/preferences")
    assert response.status_code in (302, 401)


def test_the_admin_sees_failed_and_waiting_messages_and_sends_them_again(
    app, client, api, staff_mail, mail_server
):
    mail_server.handler.refuse.add(address("director"))
    complaint = api.open("librarian", "complaint", summary="N", channel="phone")["number"]
    api.ok("librarian", complaint, "escalate", reason="x")
    deliver(app)  # refused for good: failed
    api.open("staff", "violation", **violation_fields(staff_mail))  # waiting

    sign_in(client, app, "admin")
    page = client.get("/notifications/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"{complaint}: complaint escalated to the Library Director" in html
    assert "550" in html
    assert "A case needs your attention" in html
    assert "violation" not in html.lower()  # not even the kind of a confidential case's mail

    mail_server.handler.refuse.clear()
    retried = client.post(
        "/notifications/outbox/retry-failed", data={"csrf_token": csrf_token(html)}
    )
    assert retried.status_code == 302
    assert deliver(app).sent == 2
    assert sorted(m.rcpt_tos[0] for m in mail_server.messages) == [
        address("director"),
        address("director"),
    ]


def test_only_the_admin_sees_the_outbox(app, client, staff_mail):
    sign_in(client, app, "director")
    assert client.get("/notifications/outbox").status_code == 403
    html = client.get("/notifications/preferences").get_data(as_text=True)
    refused = client.post(
        "/notifications/outbox/retry-failed", data={"csrf_token": csrf_token(html)}
    )
    assert refused.status_code == 403
