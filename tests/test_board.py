"""For the Board: the monthly report's figures, what it never shows, who reads it, how each
reading is recorded; and acting Directors, named for dates, on the administration trail."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from timed import et, fire_at, open_at
from webpages import Visitor, set_password

from casework.errors import InvalidFields
from casework.extensions import db
from casework.models import ActingDirector, AdministrationEvent, OutboxMessage, ReportRead, utcnow
from casework.services import acting, board_report
from casework.services.board_report.figures import NO_BRANCH
from casework.services.board_report.months import choose_period
from casework.services.users import find_user

OCTOBER = "2026-10"


def complaint(app, branch: str | None, received: datetime) -> str:
    fields = {"summary": "Hours wrong", "channel": "facebook", "patron": "Pat Patron"}
    if branch:
        fields["branch"] = branch
    fields["received_at"] = received.strftime("%Y-%m-%dT%H:%M:%SZ")
    return open_at(app, "librarian", "complaint", fields, received)


def violation(app, cast, category: str, at: datetime) -> str:
    fields = {
        "subject": cast.person_ids["olive"],
        "category": category,
        "description": "Posted about a coworker.",
    }
    if category == "harassment":
        fields["protected_classes"] = ["age"]
    return open_at(app, "staff", "violation", fields, at)


def seed(app, cast) -> dict[str, list[str]]:
    """A small October 2026 (no holiday from the 19th to the 30th), figures worked out by hand."""
    made: dict[str, list[str]] = {"complaints": [], "violations": []}
    # Main Library: engaged in time (Mon → Wed, due end of Wed) and late (Mon → Thu).
    a = complaint(app, "Main Library", et(2026, 10, 19, 9))
    fire_at(app, "librarian", a, "engage", et(2026, 10, 21, 10), response="Answered.")
    b = complaint(app, "Main Library", et(2026, 10, 19, 9))
    fire_at(app, "librarian", b, "engage", et(2026, 10, 22, 10), response="Answered.")
    # Lucasville: Fri → Tue is 2 business days (in time); one escalated, never engaged (late),
    # decided 3 business days after its escalation (Wed → Mon).
    c = complaint(app, "Lucasville Branch", et(2026, 10, 23, 9))
    fire_at(app, "librarian", c, "engage", et(2026, 10, 27, 16), response="Answered.")
    d = complaint(app, "Lucasville Branch", et(2026, 10, 20, 9))
    fire_at(app, "librarian", d, "escalate", et(2026, 10, 21, 9), reason="Threat of a lawsuit.")
    fire_at(app, "director", d, "resolve", et(2026, 10, 26, 15), resolution="Called the patron.")
    # No branch: escalated and decided the next business day.
    e = complaint(app, None, et(2026, 10, 26, 9))
    fire_at(app, "librarian", e, "escalate", et(2026, 10, 26, 11), reason="Needs the Director.")
    fire_at(app, "director", e, "resolve", et(2026, 10, 27, 11), resolution="Apologised.")
    # Received in September: not October's.
    f = complaint(app, "Main Library", et(2026, 9, 30, 9))
    fire_at(app, "librarian", f, "engage", et(2026, 10, 1, 9), response="Answered.")
    made["complaints"] = [a, b, c, d, e, f]
    # Violations: 3 harassment dismissed and 1 open; 1 logo misuse disciplined.
    for day in (19, 20, 21):
        number = violation(app, cast, "harassment", et(2026, 10, day, 9))
        fire_at(
            app,
            "director",
            number,
            "dismiss",
            et(2026, 10, day, 15),
            reason="insufficient_evidence",
            explanation="Could not be confirmed.",
        )
        made["violations"].append(number)
    made["violations"].append(violation(app, cast, "harassment", et(2026, 10, 22, 9)))
    logo = violation(app, cast, "logo_misuse", et(2026, 10, 22, 10))
    fire_at(
        app, "director", logo, "inspect", et(2026, 10, 22, 11), cause="A report.", findings="Seen."
    )
    fire_at(app, "director", logo, "review", et(2026, 10, 23, 11), assessment="A breach.")
    fire_at(
        app,
        "director",
        logo,
        "discipline",
        et(2026, 10, 26, 11),
        action="written_warning",
        handbook_reference="Handbook §4.12",
    )
    made["violations"].append(logo)
    # Posts: two removed as spam, one as obscenity, one kept; one removed in November.
    post = {"post_url": "https://social.example/p/1", "content": "Buy now", "is_complaint": "no"}
    for grounds, day in (
        ("spam_or_advertising", 20),
        ("spam_or_advertising", 21),
        ("obscenity", 22),
    ):
        number = open_at(app, "social", "moderation", post, et(2026, 10, day, 9))
        fire_at(
            app, "social", number, "remove", et(2026, 10, day, 10), grounds=grounds, note="Gone."
        )
    kept = open_at(app, "social", "moderation", post, et(2026, 10, 23, 9))
    fire_at(app, "social", kept, "keep", et(2026, 10, 23, 10), note="Fair comment.")
    later = open_at(app, "social", "moderation", post, et(2026, 10, 30, 9))
    fire_at(app, "social", later, "remove", et(2026, 11, 2, 10), grounds="obscenity", note="Gone.")
    return made


def test_the_report_figures_match_a_small_month_worked_out_by_hand(app, cast):
    seed(app, cast)
    with app.app_context():
        period = choose_period(OCTOBER)
        report = board_report.build_report(find_user("director"), period)
    rows = {r.branch: r for r in report.engagement}
    assert set(rows) == {"Main Library", "Lucasville Branch", NO_BRANCH}
    main, lucasville, none = (
        rows["Main Library"],
        rows["Lucasville Branch"],
        rows[NO_BRANCH],
    )
    assert (main.received, main.in_time, main.late, main.waiting, main.share) == (2, 1, 1, 0, "50%")
    assert (lucasville.received, lucasville.in_time, lucasville.late) == (2, 1, 1)
    assert (none.received, none.in_time, none.late, none.share) == (1, 0, 1, "0%")
    assert report.deadline_words == "2 business days"
    [october] = report.escalations
    assert (october.escalated, october.decided, october.median_days, october.max_days) == (
        2,
        2,
        2.0,
        3,
    )
    assert report.violations is not None
    table = dict(report.violations.rows)
    assert report.violations.outcomes == ["Open", "Disciplined", "Dismissed"]
    harassment = next(
        label for label in table if label.startswith("Harassment") or "harass" in label.lower()
    )
    assert table[harassment] == ["fewer than 3", "0", "3"]
    logo = next(label for label in table if "logo" in label.lower())
    assert table[logo] == ["0", "fewer than 3", "0"]
    moderation = {m.outcome: m.count for m in report.moderation}
    assert moderation["Removed: Spam or advertising"] == 2
    assert moderation["Removed: Obscenity"] == 1
    assert moderation["Kept"] == 1
    assert sum(moderation.values()) == 4


def test_the_report_names_no_person_and_no_case_on_its_page_csv_or_pdf(app, cast):
    made = seed(app, cast)
    director = Visitor(app, "director")
    page = director.get(f"/board-report?month={OCTOBER}")
    assert page.status_code == 200
    text_csv = director.post("/board-report.csv", {"month": OCTOBER})
    assert text_csv.status_code == 200
    assert text_csv.headers["Content-Disposition"].endswith("board-report-2026-10.csv")
    pdf = director.post("/board-report.pdf", {"month": OCTOBER})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    sheet = list(csv.reader(io.StringIO(text_csv.text)))
    assert ["Category", "Open", "Disciplined", "Dismissed"] in sheet
    for text in (page.text, text_csv.text, pdf_text):
        assert "fewer than 3" in text
        for number in made["complaints"] + made["violations"]:
            assert number not in text
        for name in ("Olive", "Outsider", "Pat Patron", "Staff Person", "E-olive"):
            assert name not in text
        assert "VIO-" not in text and "CMP-" not in text


def test_each_role_reads_only_its_sections_and_each_reading_is_recorded(app, cast):
    with app.app_context():
        shown = {
            role: board_report.sections_for(find_user(role))
            for role in (
                "director",
                "trustee",
                "hr",
                "librarian",
                "social",
                "staff",
                "records",
                "admin",
            )
        }
    everything = ["engagement", "escalations", "violations", "moderation"]
    assert shown["director"] == shown["trustee"] == everything
    assert shown["hr"] == ["violations"]
    assert shown["librarian"] == shown["social"] == ["engagement", "escalations", "moderation"]
    assert shown["staff"] == shown["records"] == shown["admin"] == []
    librarian = Visitor(app, "librarian")
    page = librarian.get(f"/board-report?month={OCTOBER}")
    assert page.status_code == 200
    assert "violation" not in page.text.lower()
    sheet = librarian.post("/board-report.csv", {"from": "2026-09", "until": OCTOBER})
    assert "violation" not in sheet.text.lower()
    hr_page = Visitor(app, "hr").get(f"/board-report?month={OCTOBER}")
    assert (
        "Staff policy violation cases" in hr_page.text and "Complaints engaged" not in hr_page.text
    )
    with app.app_context():
        reads = db.session.execute(sa.select(ReportRead).order_by(ReportRead.id)).scalars().all()
        assert [(r.reader, r.format, r.first_month, r.last_month, r.sections) for r in reads] == [
            ("librarian", "page", OCTOBER, OCTOBER, "engagement,escalations,moderation"),
            ("librarian", "csv", "2026-09", OCTOBER, "engagement,escalations,moderation"),
            ("hr", "page", OCTOBER, OCTOBER, "violations"),
        ]


def test_a_bad_month_is_refused_by_name_and_nothing_is_recorded(app, cast):
    director = Visitor(app, "director")
    bad = director.get("/board-report?month=2026-13")
    assert bad.status_code == 400
    assert "Enter the month as YYYY-MM" in bad.text
    backwards = director.post("/board-report.csv", {"from": "2026-11", "until": "2026-09"})
    assert backwards.status_code in (400, 422)
    with app.app_context():
        with pytest.raises(InvalidFields) as refused:
            choose_period("2999-01")
        assert "month" in refused.value.fields
        assert db.session.execute(sa.select(sa.func.count()).select_from(ReportRead)).scalar() == 0


def test_the_command_line_writes_the_report_and_records_the_reading(
    app, cast, tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from casework.cli import main

    seed(app, cast)
    monkeypatch.setenv("CASEWORK_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    out = tmp_path / "board.csv"
    result = CliRunner().invoke(
        main, ["report", "monthly", "--month", OCTOBER, "--format", "csv", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "Main Library" in text and "Staff policy violation cases" in text
    with app.app_context():
        reader = db.session.execute(sa.select(ReportRead.reader)).scalar_one()
        assert reader.startswith("cli:")


# --- acting Director ------------------------------------------------------------------------


def name(app, by: str, who: str, first: date, last: date, reason: str = "Director on leave"):
    with app.app_context():
        term = acting.name_acting(find_user(by), who, first.isoformat(), last.isoformat(), reason)
        db.session.commit()
        return term.id


def today(app) -> date:
    with app.app_context():
        from casework.library import library

        return utcnow().astimezone(library().tz).date()


def test_an_acting_director_works_the_directors_cases_only_within_the_dates(app, cast, api):
    number = violation(app, cast, "harassment", utcnow() - timedelta(hours=1))
    # Before the term: staff2 sees no violation case and may not decide it.
    assert api.get(f"/cases/{number}", "staff2").status_code == 404
    day = today(app)
    term = name(app, "director", "staff2", day, day + timedelta(days=3))
    assert api.get(f"/cases/{number}", "staff2").status_code == 200
    body = api.ok("staff2", number, "inspect", cause="A report.", findings="Seen.")
    assert body["state"] == "inspected"
    home = Visitor(app, "staff2").get("/")
    assert "You are acting Library Director until" in home.text
    with app.app_context():
        user = find_user("staff2")
        assert "director" in user.roles and "director" not in user.assigned_roles
        assert user.acting_term(utcnow() + timedelta(days=5)) is None
        assert "director" not in {r for r in user.assigned_roles}
    # Ended: the role goes with it.
    with app.app_context():
        acting.end_term(find_user("trustee"), term)
        db.session.commit()
    assert api.get(f"/cases/{number}", "staff2").status_code == 404
    assert api.fire("staff2", number, "review", assessment="A breach.").status_code == 404


def test_a_term_to_come_gives_nothing_yet(app, cast, api):
    number = violation(app, cast, "harassment", utcnow() - timedelta(hours=1))
    day = today(app)
    name(app, "director", "staff2", day + timedelta(days=2), day + timedelta(days=4))
    assert api.get(f"/cases/{number}", "staff2").status_code == 404
    assert "acting Library Director" not in Visitor(app, "staff2").get("/").text


def test_an_acting_director_never_sees_or_acts_on_a_case_about_themselves(app, cast, api):
    about_them = open_at(
        app,
        "staff",
        "violation",
        {"subject": cast.person_ids["staff2"], "category": "logo_misuse", "description": "x"},
        utcnow() - timedelta(hours=1),
    )
    day = today(app)
    name(app, "director", "staff2", day, day + timedelta(days=1))
    assert api.get(f"/cases/{about_them}", "staff2").status_code == 404
    assert (
        api.fire("staff2", about_them, "dismiss", reason="other", explanation="x").status_code
        == 404
    )
    listed = api.get("/cases?workflow=violation", "staff2").get_json()
    assert about_them not in [c["number"] for c in listed["items"]]
    # The Director still decides it.
    assert api.get(f"/cases/{about_them}", "director").status_code == 200


def test_an_acting_director_leaves_a_case_about_the_director_to_the_trustees(app, cast, api):
    """The Director names whoever acts for them: a case about the Director is not theirs to read
    or decide, acting or not; the trustees stand in, as they do for the Director."""
    about_director = open_at(
        app,
        "staff",
        "violation",
        {"subject": cast.person_ids["director"], "category": "harassment", "description": "x"},
        utcnow() - timedelta(hours=1),
    )
    other = violation(app, cast, "harassment", utcnow() - timedelta(hours=1))
    day = today(app)
    name(app, "director", "staff2", day, day + timedelta(days=1))
    assert api.get(f"/cases/{other}", "staff2").status_code == 200
    assert api.get(f"/cases/{about_director}", "staff2").status_code == 404
    refused = api.fire("staff2", about_director, "dismiss", reason="other", explanation="x")
    assert refused.status_code == 404
    listed = api.get("/cases?workflow=violation&per_page=100", "staff2").get_json()
    numbers = [c["number"] for c in listed["items"]]
    assert other in numbers and about_director not in numbers
    assert listed["total"] == len(numbers)
    assert api.get(f"/cases/{about_director}", "trustee").status_code == 200
    # What they themselves reported about the Director stays listed for them, as a receipt.
    reported = open_at(
        app,
        "staff2",
        "violation",
        {"subject": cast.person_ids["director"], "category": "harassment", "description": "y"},
        utcnow() - timedelta(minutes=30),
    )
    mine = api.get("/cases?workflow=violation&per_page=100", "staff2").get_json()
    assert reported in [c["number"] for c in mine["items"]]
    assert mine["total"] == len(mine["items"]) == len(numbers) + 1
    receipt = api.get(f"/cases/{reported}", "staff2").get_json()
    assert receipt["state"] == "open" and "fields" not in receipt


def test_naming_is_refused_for_oneself_and_by_others_and_is_on_the_trail(app, cast):
    day = today(app)
    with app.app_context():
        director = find_user("director")
        with pytest.raises(InvalidFields) as own:
            acting.name_acting(director, "director", day, day, "Away")
        assert "Nobody names themselves" in own.value.fields["user"][0]
        with pytest.raises(InvalidFields) as past:
            acting.name_acting(director, "staff2", day - timedelta(days=1), day, "Away")
        assert "from_day" in past.value.fields
        with pytest.raises(InvalidFields) as admin_only:
            acting.name_acting(director, "admin", day, day, "Away")
        assert "IT administrator" in admin_only.value.fields["user"][0]
        db.session.rollback()
    # An administrator may not name anyone, nor may an acting Director name another.
    admin = Visitor(app, "admin")
    refused = admin.post(
        "/acting-director",
        {
            "user": "staff2",
            "from_day": day.isoformat(),
            "until_day": day.isoformat(),
            "reason": "x",
        },
    )
    assert refused.status_code == 403
    name(app, "trustee", "staff2", day, day + timedelta(days=2))
    acting_one = Visitor(app, "staff2")
    assert acting_one.get("/acting-director").status_code == 403
    # A second term over the same dates is refused by name.
    director_page = Visitor(app, "director")
    clash = director_page.post(
        "/acting-director",
        {"user": "staff", "from_day": day.isoformat(), "until_day": day.isoformat(), "reason": "x"},
    )
    assert clash.status_code == 422 and "end that term first" in clash.text
    with app.app_context():
        events = (
            db.session.execute(
                sa.select(AdministrationEvent).where(AdministrationEvent.action.like("acting%"))
            )
            .scalars()
            .all()
        )
        assert [(e.actor, e.action, e.subject) for e in events] == [
            ("trustee", "acting_director_named", "staff2")
        ]
        assert events[0].data["until"] == (day + timedelta(days=2)).isoformat()
        assert (
            db.session.execute(sa.select(sa.func.count()).select_from(ActingDirector)).scalar() == 1
        )
    trail = director_page.get("/administration-trail")
    assert "acting Library Director" in trail.text
    admin_page = admin.get(f"/admin/users/{_user_id(app, 'staff2')}")
    assert "Acting Library Director" in admin_page.text


def _user_id(app, username: str) -> int:
    with app.app_context():
        return find_user(username).id


def test_an_acting_director_is_told_of_an_escalated_complaint_as_the_director_is(app, cast, api):
    for username in ("director", "staff2"):
        set_password(app, username, email=f"{username}@library.example")
    day = today(app)
    name(app, "director", "staff2", day, day)
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    api.ok("librarian", number, "escalate", reason="Needs the Director.")
    with app.app_context():
        told = db.session.execute(
            sa.select(OutboxMessage.recipient).where(OutboxMessage.kind == "escalated")
        ).scalars()
        assert sorted(told) == ["director@library.example", "staff2@library.example"]


def test_a_reader_is_not_counted_the_cases_about_themselves(app, cast):
    at = et(2026, 10, 20, 9)
    for _ in range(3):
        open_at(
            app,
            "staff",
            "violation",
            {"subject": cast.person_ids["hr"], "category": "logo_misuse", "description": "x"},
            at,
        )
    with app.app_context():
        period = choose_period(OCTOBER)
        shown = {
            who: dict(board_report.build_report(find_user(who), period).violations.rows)
            for who in ("hr", "director")
        }
    logo = next(label for label in shown["hr"] if "logo" in label.lower())
    assert shown["hr"][logo] == ["0", "0", "0"]
    assert shown["director"][logo] == ["3", "0", "0"]
