"""Sessions end when idle too long (sooner for personnel readers) or too old, are listed on the
account page, and can be ended one by one."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from webpages import Visitor

from casework.extensions import db
from casework.models import AdministrationEvent, OutboxMessage, User, UserSession, utcnow
from casework.services.sessions import browser

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def browser_of(app, username: str, user_agent: str) -> Visitor:
    visitor = Visitor(app)
    visitor.client.environ_base["HTTP_USER_AGENT"] = user_agent
    assert visitor.sign_in(username).status_code == 302
    return visitor


def sessions_of(app, username: str) -> list[UserSession]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(UserSession)
            .join(User, User.id == UserSession.user_id)
            .where(User.username == username)
            .order_by(UserSession.id)
        ).scalars()
        found = list(rows)
        db.session.expunge_all()
        return found


def age(app, session_id: int, *, idle=None, old=None) -> None:
    """Move a session back in time: last seen `idle` ago, started `old` ago."""
    values = {}
    if idle is not None:
        values["last_seen_at"] = utcnow() - idle
    if old is not None:
        values["started_at"] = utcnow() - old
    with app.app_context():
        db.session.execute(
            sa.update(UserSession).where(UserSession.id == session_id).values(**values)
        )
        db.session.commit()


def signed_in(visitor: Visitor) -> bool:
    answer = visitor.get("/")
    if answer.status_code == 200:
        return True
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
    return False


def test_an_idle_session_ends_after_eight_hours_for_most_roles(app, cast):
    visitor = Visitor(app, "staff")
    (row,) = sessions_of(app, "staff")
    age(app, row.id, idle=timedelta(hours=7, minutes=58))
    assert signed_in(visitor)
    assert utcnow() - sessions_of(app, "staff")[0].last_seen_at < timedelta(minutes=1)
    age(app, row.id, idle=timedelta(hours=8, minutes=1))
    assert not signed_in(visitor)
    assert visitor.client.get("/api/v1/cases").status_code == 401


def test_an_idle_session_of_a_personnel_reader_ends_after_thirty_minutes(app, cast):
    director = Visitor(app, "director")
    (row,) = sessions_of(app, "director")
    age(app, row.id, idle=timedelta(minutes=29))
    assert signed_in(director)
    age(app, row.id, idle=timedelta(minutes=31))
    assert not signed_in(director)
    staff = Visitor(app, "staff")
    age(app, sessions_of(app, "staff")[0].id, idle=timedelta(minutes=31))
    assert signed_in(staff), "thirty minutes is for the roles that read personnel records"


def test_the_idle_timeouts_are_settings(make_app, cast):
    app = make_app(SESSION_IDLE_MINUTES=5, SESSION_IDLE_MINUTES_PERSONNEL=2)
    staff = Visitor(app, "staff")
    age(app, sessions_of(app, "staff")[0].id, idle=timedelta(minutes=6))
    assert not signed_in(staff)
    hr = Visitor(app, "hr")
    age(app, sessions_of(app, "hr")[0].id, idle=timedelta(minutes=3))
    assert not signed_in(hr)


def test_a_session_ends_twelve_hours_after_signing_in_however_busy(app, cast):
    visitor = Visitor(app, "staff")
    (row,) = sessions_of(app, "staff")
    age(app, row.id, idle=timedelta(seconds=5), old=timedelta(hours=11, minutes=59))
    assert signed_in(visitor)
    age(app, row.id, idle=timedelta(seconds=5), old=timedelta(hours=12, minutes=1))
    assert not signed_in(visitor)


def test_last_seen_is_written_at_most_once_a_minute(app, cast):
    visitor = Visitor(app, "staff")
    (row,) = sessions_of(app, "staff")
    age(app, row.id, idle=timedelta(seconds=30))
    before = sessions_of(app, "staff")[0].last_seen_at
    assert signed_in(visitor)
    assert sessions_of(app, "staff")[0].last_seen_at == before


def test_the_account_page_lists_sessions_and_ends_one(app, cast):
    with app.app_context():
        db.session.execute(
            sa.update(User).where(User.username == "staff").values(email="staff@library.example")
        )
        db.session.commit()
    laptop = browser_of(app, "staff", FIREFOX)
    phone = browser_of(app, "staff", SAFARI)
    page = laptop.get("/account").text
    assert "Firefox on Windows" in page and "Safari on iPhone" in page
    assert page.count("This browser") == 1
    first, second = sessions_of(app, "staff")
    assert laptop.post(f"/account/sessions/{second.id}/end").status_code == 302
    assert not signed_in(phone)
    assert signed_in(laptop)
    assert "Safari on iPhone" not in laptop.get("/account").text
    with app.app_context():
        event = db.session.execute(
            sa.select(AdministrationEvent).order_by(AdministrationEvent.seq.desc())
        ).scalar()
        told = db.session.execute(
            sa.select(OutboxMessage.recipient).where(OutboxMessage.kind == "administration")
        ).scalars()
        told = list(told)
    assert (event.action, event.subject, event.actor) == ("session_ended", "staff", "staff")
    assert event.data["browser"] == "Safari on iPhone"
    assert told == ["staff@library.example"], "the owner is told, not the overseers"
    # Nobody ends another's session; an ended one is gone.
    other = Visitor(app, "staff2")
    assert other.post(f"/account/sessions/{first.id}/end").status_code == 404
    assert laptop.post(f"/account/sessions/{second.id}/end").status_code == 404
    # Ending this browser's own session signs it out.
    ended = laptop.post(f"/account/sessions/{first.id}/end")
    assert ended.status_code == 302 and "/sign-in" in ended.headers["Location"]
    assert not signed_in(laptop)


def test_signing_out_ends_every_session_on_the_list(app, cast):
    laptop = browser_of(app, "staff", FIREFOX)
    browser_of(app, "staff", SAFARI)
    assert laptop.post("/sign-out").status_code == 302
    assert all(s.ended_at is not None for s in sessions_of(app, "staff"))


def test_a_user_agent_is_summed_up_in_a_few_words():
    assert browser(FIREFOX) == "Firefox on Windows"
    assert browser(SAFARI) == "Safari on iPhone"
    assert browser("") == "Unknown browser"
    assert browser("curl/8.5.0") == "curl/8.5.0"


def test_a_page_another_site_links_to_shows_without_moving_last_seen(app, cast):
    """A request another site set off writes nothing, so it cannot keep a session alive."""
    visitor = Visitor(app, "staff")
    (row,) = sessions_of(app, "staff")
    age(app, row.id, idle=timedelta(minutes=5))
    before = sessions_of(app, "staff")[0].last_seen_at
    answer = visitor.get("/account", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 200
    assert sessions_of(app, "staff")[0].last_seen_at == before
