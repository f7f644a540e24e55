"""The tallies of cases (per workflow, state, branch, assigned or not, open or closed) that lists
and the dashboard count from: kept by the database in the transaction that opens or changes a
case, whoever writes it, and never counting more than the reader may see."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, CaseTally, utcnow
from casework.services import listing, tallies
from casework.services.access import visible_clause
from casework.services.listing import count_by_state
from tests.test_visibility import report

Key = tuple[str, str, str, bool, bool, bool]


def kept_tallies(app: Any) -> dict[Key, int]:
    with app.app_context():
        rows = db.session.execute(sa.select(CaseTally)).scalars()
        kept = {
            (r.workflow_key, r.state, r.branch, r.unassigned, r.open, r.due): r.cases
            for r in rows
            if r.cases
        }
        db.session.rollback()
    return kept


def wrong_tallies(app: Any) -> list[Any]:
    """The tallies that are not the number of their cases (`casework tallies`' own check)."""
    with app.app_context():
        wrong = tallies.differences()
        db.session.rollback()
    return wrong


def without_due(tallies: dict[Key, int]) -> dict[tuple[str, str, str, bool, bool], int]:
    found: dict[tuple[str, str, str, bool, bool], int] = {}
    for key, n in tallies.items():
        found[key[:5]] = found.get(key[:5], 0) + n
    return found


def listed(api: Any, user: str, query: str) -> tuple[int, list[str]]:
    """A list's `total`, and the numbers of every case its pages hold, walked by cursor."""
    body = api.get(f"/cases?per_page=2{query}", user).get_json()
    total, numbers = body["total"], [c["number"] for c in body["items"]]
    while body.get("next_cursor"):
        body = api.get(f"/cases?per_page=2&cursor={body['next_cursor']}{query}", user).get_json()
        assert body["total"] == total
        numbers += [c["number"] for c in body["items"]]
    return total, numbers


def test_the_tallies_follow_cases_opened_moved_assigned_closed_and_written_by_hand(app, api, cast):
    main, branch = "Main Library", "Lucasville Branch"
    complaints = [
        api.open("librarian", "complaint", summary="Noise", channel="phone", branch=main),
        api.open("librarian", "complaint", summary="Lights", channel="phone", branch=branch),
        api.open("librarian", "complaint", summary="Wifi", channel="phone"),
    ]
    violation = report(api, cast)
    assert wrong_tallies(app) == []
    assert without_due(kept_tallies(app)) == {
        ("complaint", "received", main, True, True): 1,
        ("complaint", "received", branch, True, True): 1,
        ("complaint", "received", "", True, True): 1,
        ("violation", "reported", "", True, True): 1,
    }
    first, second, third = (c["number"] for c in complaints)
    api.ok("librarian", first, "engage", response="Explained.")
    api.ok("librarian", first, "resolve", resolution="Quieter now.")
    api.ok("director", violation["number"], "inspect", cause="Report.", findings="Seen.")
    assigned = api.post(f"/cases/{second}/assignee", "librarian", json={"username": "librarian"})
    assert assigned.status_code == 200, assigned.get_json()
    # A stale version is refused, and nothing it began is counted.
    stale = api.fire("librarian", third, "engage", 0, response="Again.")
    assert stale.status_code == 409
    assert wrong_tallies(app) == []
    kept = without_due(kept_tallies(app))
    assert kept[("complaint", "resolved", main, True, False)] == 1
    assert kept[("complaint", "received", branch, False, True)] == 1
    assert ("complaint", "received", branch, True, True) not in kept
    # A change rolled back is not counted.
    with app.app_context():
        db.session.execute(sa.update(Case).where(Case.number == third).values(state="engaged"))
        db.session.rollback()
    assert wrong_tallies(app) == []
    # Rows changed by SQL of their own (an import, a repair) are counted too.
    with app.app_context():
        db.session.execute(
            sa.update(Case)
            .where(Case.number == third)
            .values(state="engaged", branch=branch, assignee_id=None)
        )
        db.session.commit()
    assert wrong_tallies(app) == []
    assert without_due(kept_tallies(app))[("complaint", "engaged", branch, True, True)] == 1
    # A due date set or cleared moves the case between tallies too.
    for due in (None, utcnow() - timedelta(days=3)):
        with app.app_context():
            db.session.execute(sa.update(Case).where(Case.number == third).values(due_at=due))
            db.session.commit()
        assert wrong_tallies(app) == []


@pytest.mark.parametrize("probe", [listing.OVERDUE_PROBE, 3, 1])
def test_every_total_is_the_number_of_cases_the_pages_hold(app, api, cast, monkeypatch, probe):
    """Lists take `total` from the tallies, less what the reader may not see (the cases about
    them, for one); it must be exactly what the pages hold, for every reader and filter."""
    cast.add_user("director2", "director")
    for i, branch in enumerate(("Main Library", "Lucasville Branch", "Main Library")):
        api.open("librarian", "complaint", summary=f"Noise {i}", channel="phone", branch=branch)
    engaged = api.open("librarian", "complaint", summary="Lights", channel="phone")
    api.ok("librarian", engaged["number"], "engage", response="Explained.")
    api.post(f"/cases/{engaged['number']}/assignee", "librarian", json={"username": "librarian"})
    resolved = api.open("librarian", "complaint", summary="Wifi", channel="phone")
    api.ok("librarian", resolved["number"], "escalate", reason="Director.")
    api.ok("director", resolved["number"], "resolve", resolution="Fixed.")
    about = {"director": "director2", "hr": "director", "staff": "staff2", "staff2": "staff2"}
    for subject in ("olive", "hr", "director", "staff", "librarian"):
        case = report(api, cast, subject=subject, reporter=about.get(subject, "staff"))
        if subject == "olive":
            api.ok("director", case["number"], "inspect", cause="Report.", findings="Seen.")
    report(api, cast, subject="olive", reporter="staff2")
    # Some deadlines passed, two are days away. An overdue list counts the overdue cases up to the
    # probe; past it, the cases not yet due, up to the probe, and takes them from the tallies.
    # With a probe of 3 the Director's overdue list takes the tallies' way, with a probe of 1
    # both sides are past it and the overdue cases are counted one by one after all.
    monkeypatch.setattr(listing, "OVERDUE_PROBE", probe)
    with app.app_context():
        numbers = db.session.execute(sa.select(Case.number).order_by(Case.id)).scalars().all()
        for number, days in zip(numbers, (-3, -1, 2, -5, -2, -40, 1, -7), strict=False):
            moved = sa.update(Case).where(Case.number == number)
            db.session.execute(moved.values(due_at=utcnow() + timedelta(days=days)))
        db.session.commit()
    readers = ("director", "director2", "hr", "librarian", "social", "staff", "staff2", "trustee")
    for user, query in itertools.product(
        (*readers, "admin"),
        (
            "",
            "&sort=created_at",
            "&workflow=complaint",
            "&workflow=violation",
            "&state=reported",
            "&workflow=violation&state=reported",
            "&workflow=complaint&state=engaged",
            "&workflow=moderation",
            "&sort=-updated_at",
            "&branch=Main+Library",
            "&branch=Lucasville+Branch&workflow=complaint",
            "&assignee=none",
            "&assignee=none&state=engaged",
            "&assignee=librarian",
            "&open=1",
            "&open=1&workflow=violation",
            "&open=1&branch=Main+Library&assignee=none",
            "&overdue=0",
            "&overdue=1",
            "&overdue=1&workflow=violation",
            "&overdue=1&branch=Main+Library&open=1",
            "&overdue=1&assignee=librarian",
        ),
    ):
        total, numbers = listed(api, user, query)
        assert len(numbers) == len(set(numbers)) == total, (user, query)
    # The Director sees every case but the one about them; the subject of one sees the others.
    assert listed(api, "director", "")[0] == 10
    assert listed(api, "director", "&workflow=violation")[0] == 5
    assert listed(api, "director", "&open=1")[0] == 9
    assert listed(api, "director", "&assignee=none&workflow=complaint")[0] == 4
    assert listed(api, "director", "&branch=Main+Library")[0] == 2
    assert listed(api, "hr", "&workflow=violation")[0] == 5
    assert listed(api, "librarian", "")[0] == 5
    assert listed(api, "director", "&overdue=1")[0] == 5
    # The dashboard's counts per state, against a count of every case the reader may see.
    with app.app_context():
        for user in (*readers, "admin"):
            reader = cast.user(user)
            every = db.session.execute(
                sa.select(Case.workflow_key, Case.state, sa.func.count())
                .where(visible_clause(reader))
                .group_by(Case.workflow_key, Case.state)
            )
            assert count_by_state(reader) == {(w, s): n for w, s, n in every}, user
        director = count_by_state(cast.user("director"))
        assert director[("violation", "reported")] == 4
        assert director[("complaint", "engaged")] == 1


def test_tallies_changed_behind_the_triggers_are_found_and_counted_again(app, api, cli):
    """A database owner can change cases with the triggers off: `casework tallies` names each
    tally that is wrong and exits 1; `--fix` counts them again, and lists agree once more."""
    for summary in ("Noise", "Lights", "Wifi"):
        api.open("librarian", "complaint", summary=summary, channel="phone")
    assert "tallies: ok" in cli("tallies")
    with app.app_context():  # as cases changed with the triggers off would leave them
        db.session.execute(sa.delete(CaseTally))
        db.session.add(
            CaseTally(
                workflow_key="complaint",
                state="resolved",
                branch="",
                unassigned=True,
                open=False,
                due=False,
                cases=2,
            )
        )
        db.session.commit()
    out = cli("tallies", code=1)
    assert "complaint received (branch none, unassigned, open, with a due date): tallied 0, " in out
    resolved = "complaint resolved (branch none, unassigned, closed, without a due date)"
    assert f"{resolved}: tallied 2, counted 0" in out
    assert "2 wrong" in out
    assert api.get("/cases", "librarian").get_json()["total"] == 2
    assert "counted again" in cli("tallies", "--fix")
    assert wrong_tallies(app) == []
    assert "tallies: ok" in cli("tallies")
    total, numbers = listed(api, "librarian", "")
    assert total == len(numbers) == 3
