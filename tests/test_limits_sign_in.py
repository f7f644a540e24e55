"""Sign-in throttling tells nothing about which names exist, and locks nobody out from elsewhere."""

from __future__ import annotations

import logging
import re

import pytest
from webpages import PASSWORD, csrf_token, set_password

from casework.http import identity


def attempt(client, name, password, address="10.0.0.66"):
    env = {"REMOTE_ADDR": address}
    page = client.get("/sign-in", environ_base=env)
    return client.post(
        "/sign-in",
        data={"csrf_token": csrf_token(page.text), "username": name, "password": password},
        environ_base=env,
    )


def shown(response, name):
    """The answer with what differs by request alone (the name typed, the form's token) blanked."""
    text = re.sub(r'name="csrf_token"[^>]*>', "", response.text).replace(name, "NAME")
    return response.status_code, re.sub(r"Try again in \d+ \w+", "Try again in N", text)


def test_unknown_and_real_names_get_the_same_answers(app, cast):
    set_password(app, "director")
    client = app.test_client()
    real = [shown(attempt(client, "director", f"wrong {i}"), "director") for i in range(7)]
    unknown = [
        shown(attempt(client, "nobody-at-all", f"wrong {i}"), "nobody-at-all") for i in range(7)
    ]
    assert [s for s, _ in real] == [401, 401, 401, 401, 429, 429, 429]
    assert real == unknown


@pytest.mark.parametrize("name", ["director", "nobody-at-all"])
def test_every_answer_costs_one_password_hash(app, cast, monkeypatch, name):
    """A refused name answers no faster than a checked one: each attempt hashes once."""
    set_password(app, "director")
    calls = []
    real_hash, real_check = identity.hash_password, identity.check_password
    monkeypatch.setattr(identity, "hash_password", lambda p: calls.append("hash") or real_hash(p))
    monkeypatch.setattr(
        identity, "check_password", lambda u, p: calls.append("check") or real_check(u, p)
    )
    client = app.test_client()
    per_attempt = []
    for i in range(7):
        before = len(calls)
        attempt(client, name, f"wrong {i}")
        per_attempt.append(len(calls) - before)
    assert per_attempt == [1] * 7


def test_failures_from_one_address_do_not_lock_out_the_same_name_elsewhere(app, cast):
    set_password(app, "director")
    attacker = app.test_client()
    for i in range(8):
        attempt(attacker, "director", f"guess {i}", address="203.0.113.9")
    assert attempt(attacker, "director", PASSWORD, address="203.0.113.9").status_code == 429
    director = app.test_client()
    assert attempt(director, "director", PASSWORD, address="10.1.2.3").status_code == 302


def test_one_address_trying_many_names_is_throttled_for_every_name(make_app, cast):
    app = make_app(SIGN_IN_FAILURES_PER_ADDRESS=6)
    set_password(app, "hr")
    client = app.test_client()
    statuses = [
        attempt(client, f"name{i}", "x", address="198.51.100.4").status_code for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    assert attempt(client, "hr", PASSWORD, address="198.51.100.4").status_code == 429
    assert attempt(client, "hr", PASSWORD, address="198.51.100.5").status_code == 302


def test_every_refusal_is_one_warning_line(app, cast, caplog):
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        for i in range(7):
            attempt(client, "nobody-at-all", f"wrong {i}")
    lines = [r for r in caplog.records if "sign-in refused" in r.getMessage()]
    assert len(lines) == 3
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in lines)


def test_failures_add_up_across_workers(make_app, cast):
    """Two application instances (two workers, or two hosts) count on the same database."""
    one, two = make_app(), make_app()
    set_password(one, "librarian")
    statuses = []
    for i in range(5):
        worker = (one if i % 2 else two).test_client()
        statuses.append(attempt(worker, "librarian", f"wrong {i}").status_code)
    assert statuses == [401, 401, 401, 401, 429]


def test_guessing_the_current_password_of_a_borrowed_session_is_throttled(app, cast):
    from webpages import Visitor

    visitor = Visitor(app, "staff")
    statuses = []
    for i in range(6):
        response = visitor.post(
            "/account/password",
            {
                "current_password": f"guess {i}",
                "new_password": "a brand new password",
                "confirm_password": "a brand new password",
            },
        )
        statuses.append(response.status_code)
    assert statuses[:4] == [422] * 4 and statuses[-1] == 429


def test_old_counts_are_pruned_when_new_ones_are_written(app, cast):
    from datetime import timedelta

    import sqlalchemy as sa

    from casework.extensions import db
    from casework.models import ThrottleHit, utcnow
    from casework.services import limits

    with app.app_context():
        old = utcnow() - timedelta(days=2)
        db.session.add_all(ThrottleHit(key=f"sign-in:address:old{i}", at=old) for i in range(20))
        db.session.commit()
        limits.hit("writes:user:1", utcnow())
        db.session.commit()
        left = db.session.execute(sa.select(ThrottleHit.key)).scalars().all()
    assert left == ["writes:user:1"]
